package normalize

import (
	"errors"
	"fmt"

	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/schema"
)

// OrderAnswer is a venue's answer to one order request sent on a
// WebSocket (OKX's "order"/"cancel-order", Bybit's
// "order.create"/"order.cancel"), as [OKXAnswers] and [BybitAnswers] read
// it into a value the caller reuses: reading one costs no allocation,
// except Msg on a refusal.
//
// Accepted means the venue took the request for processing: for a place,
// the order exists at the venue (its id is VenueOrderID); what becomes of
// it (New, filled, rejected by the matching engine) is told by the
// execution reports of the venue's private channels. A refusal carries
// the venue's code and message.
type OrderAnswer struct {
	RequestID     uint64             // the request id the answer carried; 0 when it carried none this package wrote
	Action        schema.OrderAction // place or cancel, by the answer's op
	Accepted      bool
	Code          int64     // the venue's code: 0 when accepted (OKX sCode, or code when no order says more; Bybit retCode)
	Msg           string    // the venue's message, when refused
	VenueOrderID  schema.ID // OKX ordId, Bybit orderId
	ClientOrderID schema.ID // OKX clOrdId, Bybit orderLinkId
	TS            int64     // the venue's time of the answer, Unix ns; 0 when not sent
	// RetryAfter is when the venue takes such requests again, Unix ns by
	// its clock, on a refusal for a rate limit where it says (Bybit
	// retCode 10006 with X-Bapi-Limit-Reset-Timestamp); 0 otherwise.
	RetryAfter int64
}

// Reset zeroes every field.
func (a *OrderAnswer) Reset() { *a = OrderAnswer{} }

// firstObject returns the first element of an answer's "data" (a JSON
// array, or a lone object) if it is an object, else nil.
func firstObject(elems []span, input []byte) []byte {
	if len(elems) == 0 {
		return nil
	}
	v := elems[0].of(input)
	if len(v) == 0 || v[0] != '{' {
		return nil
	}
	return v
}

// decodeAnswer decodes in into v with goccy's v2 API; a panic inside the
// decoder (goccy v0.12.0 is a fresh rewrite) is returned as
// ErrDecoderPanic, never raised.
func decodeAnswer(venue schema.Venue, in []byte, v any) error {
	switch err := decode(in, v); {
	case err == nil:
		return nil
	case errors.Is(err, ErrDecoderPanic):
		return &ParseError{Venue: venue, Stream: "order answer", Err: err}
	default:
		field, cause := decodeError(err)
		return &ParseError{Venue: venue, Stream: "order answer", Field: field, Err: cause}
	}
}

// orderRequestJSON writes an order request struct into dst with goccy's v2
// API.
func orderRequestJSON(dst []byte, v any) ([]byte, error) {
	out := appender{b: dst}
	if err := json.MarshalWrite(&out, v); err != nil {
		return dst, fmt.Errorf("%w: %w", ErrBadValue, err)
	}
	return out.b, nil
}

// idChars checks an id against a venue's alphabet: letters and digits,
// and the bytes of extra, at most max bytes, at least one.
func idChars(what string, id *schema.ID, extra string, max int) (string, error) {
	b := id.Bytes()
	ok := len(b) > 0 && len(b) <= max
	for _, c := range b {
		if !isAlnumByte(c) && !containsByte(extra, c) {
			ok = false
		}
	}
	if !ok {
		return "", fmt.Errorf("%w: %s %q is not 1 to %d of [A-Za-z0-9%s]", ErrBadValue, what, b, max, extra)
	}
	return string(b), nil
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// orderShape is a request as OKX's and Bybit's order operations take it:
// a market, limit or post-only order, a time in force, and a quantity in
// the base currency or, for a spot market order, the quote currency.
type orderShape struct {
	typ   schema.OrderType   // Market, Limit or LimitMaker (post-only, GTC)
	tif   schema.TimeInForce // Limit: GTC (also when none was given), IOC or FOK
	qty   string
	quote bool // qty is in the quote currency
}

// shapeOrder checks that o can be expressed as an OKX or Bybit order
// (spot: a spot instrument) and shapes it: stop and take-profit orders are
// their conditional or algo orders, GTX is PostOnly, a post-only order is
// GTC, a market order is immediate (no FOK), a quote quantity is for spot
// market orders, reduce-only for derivatives; all else is ErrUnsupported.
func shapeOrder(o *schema.OrderRequest, spot bool) (orderShape, error) {
	sh := orderShape{typ: o.Type, tif: o.TimeInForce, qty: o.Qty.String()}
	switch {
	case o.ReduceOnly && spot:
		return sh, fmt.Errorf("%w: a spot order cannot be reduce-only", ErrUnsupported)
	case sh.tif == schema.TIFGTX:
		return sh, fmt.Errorf("%w: GTX: use PostOnly", ErrUnsupported)
	case o.PostOnly && sh.typ != schema.OrderTypeLimit && sh.typ != schema.OrderTypeLimitMaker:
		return sh, fmt.Errorf("%w: post-only needs a limit order", ErrUnsupported)
	case o.PostOnly:
		sh.typ = schema.OrderTypeLimitMaker
	}
	switch sh.typ {
	case schema.OrderTypeMarket:
		if sh.tif == schema.TIFFOK {
			return sh, fmt.Errorf("%w: a market order takes no FOK here", ErrUnsupported)
		}
		sh.tif = schema.TIFUnknown
	case schema.OrderTypeLimit:
		if sh.tif != schema.TIFIOC && sh.tif != schema.TIFFOK {
			sh.tif = schema.TIFGTC
		}
	case schema.OrderTypeLimitMaker:
		if sh.tif == schema.TIFIOC || sh.tif == schema.TIFFOK {
			return sh, fmt.Errorf("%w: a post-only order is GTC", ErrUnsupported)
		}
		sh.tif = schema.TIFGTC
	default:
		return sh, fmt.Errorf("%w: %s orders are conditional (algo) orders on this venue: not yet", ErrUnsupported, sh.typ)
	}
	if o.Qty.Sign() == 0 {
		if sh.typ != schema.OrderTypeMarket || !spot {
			return sh, fmt.Errorf("%w: a quote quantity is for spot market orders", ErrUnsupported)
		}
		sh.qty, sh.quote = o.QuoteQty.String(), true
	}
	return sh, nil
}
