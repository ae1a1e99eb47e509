package normalize

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/meltica/meltica/schema"
)

// OKXOrders encodes order requests as OKX v5 WebSocket trade operations
// (OKX v5 API, "Trade → WebSocket Place order" and "WebSocket Cancel
// order"): {"id","op":"order"|"cancel-order","args":[{…}]}, sent on the
// private WebSocket once it is logged in ([OKXLogin]). The request needs
// no signature of its own: the login authenticates the connection.
//
// Place: instId, tdMode, side (buy, sell), ordType, sz, px (limit types),
// clOrdId, and for spot market orders tgtCcy (base_ccy when Qty is given,
// quote_ccy when QuoteQty is: OKX's default for a market buy is the quote
// currency, so it is always sent). ordType: Market is market; Limit is
// limit (GTC or no time in force), ioc (IOC) or fok (FOK); LimitMaker, or
// Limit with PostOnly, is post_only. tdMode is cash for spot instruments
// (BASE-QUOTE) and cross for derivatives (BASE-QUOTE-PERP, futures), unless
// [OKXOrderOptions].TdMode says otherwise; reduceOnly is sent for
// derivatives only (a spot order cannot reduce a position:
// ErrUnsupported). Stop and take-profit orders are OKX algo orders (a
// different operation): ErrUnsupported, as is TIF GTX (use PostOnly).
//
// Cancel: instId with ordId (VenueOrderID) or clOrdId (OrigClientOrderID).
//
// Ids: the request id is the decimal id (OKX: alphanumeric, at most 32
// characters), clOrdId 1 to 32 letters and digits (OKX's rule, checked
// here: the venue would refuse the order otherwise).
//
// It is safe for concurrent use. Make it with [NewOKXOrders].
type OKXOrders struct {
	syms   *Symbols
	tdMode string
}

// OKXOrderOptions configure an [OKXOrders]. A nil *OKXOrderOptions means
// the defaults.
type OKXOrderOptions struct {
	// Symbols turns canonical symbols into OKX instrument ids. Defaults to
	// a new registry with [OKXSymbolRules].
	Symbols *Symbols
	// TdMode is the trade mode sent with every order: "cash", "cross",
	// "isolated" or "spot_isolated" (OKX "tdMode"). Defaults to "": cash
	// for spot instruments, cross for derivatives.
	TdMode string
}

// NewOKXOrders returns an OKX order encoder.
func NewOKXOrders(opts *OKXOrderOptions) *OKXOrders {
	var o OKXOrderOptions
	if opts != nil {
		o = *opts
	}
	if o.Symbols == nil {
		o.Symbols = NewSymbols(OKXSymbolRules())
	}
	return &OKXOrders{syms: o.Symbols, tdMode: o.TdMode}
}

// okxRequest is a trade operation; Args holds one order's.
type okxRequest struct {
	ID   string `json:"id"`
	Op   string `json:"op"`
	Args any    `json:"args"`
}

// okxPlaceArg is one order of an OKX "order" operation.
type okxPlaceArg struct {
	InstID     string `json:"instId"`
	TdMode     string `json:"tdMode"`
	ClOrdID    string `json:"clOrdId,omitempty"`
	Side       string `json:"side"`
	OrdType    string `json:"ordType"`
	Sz         string `json:"sz"`
	Px         string `json:"px,omitempty"`
	TgtCcy     string `json:"tgtCcy,omitempty"`
	ReduceOnly bool   `json:"reduceOnly,omitzero"`
}

// okxCancelArg is one order of an OKX "cancel-order" operation.
type okxCancelArg struct {
	InstID  string `json:"instId"`
	OrdID   string `json:"ordId,omitempty"`
	ClOrdID string `json:"clOrdId,omitempty"`
}

// AppendRequest appends to dst the operation for o (order or
// cancel-order, by o.Action) with request id id, which the venue's answer
// carries back ([OKXAnswers]). Errors: o's validation error,
// ErrUnknownSymbol, ErrUnsupported (an order OKX's order operation cannot
// express), ErrBadValue (an id outside OKX's rules); dst is returned
// unchanged with them.
func (e *OKXOrders) AppendRequest(dst []byte, id uint64, o *schema.OrderRequest) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return dst, err
	}
	inst, err := e.syms.VenueSymbol(o.Symbol)
	if err != nil {
		return dst, err
	}
	reqID := strconv.FormatUint(id, 10)
	if o.Action == schema.ActionCancel {
		arg := okxCancelArg{InstID: inst}
		if !o.VenueOrderID.IsZero() {
			if arg.OrdID, err = idChars("OKX ordId", &o.VenueOrderID, "", 32); err != nil {
				return dst, err
			}
		}
		if !o.OrigClientOrderID.IsZero() {
			if arg.ClOrdID, err = idChars("OKX clOrdId", &o.OrigClientOrderID, "", 32); err != nil {
				return dst, err
			}
		}
		return orderRequestJSON(dst, &okxRequest{reqID, "cancel-order", []okxCancelArg{arg}})
	}
	arg, err := e.placeArg(inst, o)
	if err != nil {
		return dst, err
	}
	return orderRequestJSON(dst, &okxRequest{reqID, "order", []okxPlaceArg{arg}})
}

func (e *OKXOrders) placeArg(inst string, o *schema.OrderRequest) (okxPlaceArg, error) {
	derivative := strings.Count(o.Symbol, "-") >= 2
	a := okxPlaceArg{InstID: inst, TdMode: e.tdMode, Side: "buy"}
	if a.TdMode == "" {
		a.TdMode = "cash"
		if derivative {
			a.TdMode = "cross"
		}
	}
	if o.Side == schema.SideSell {
		a.Side = "sell"
	}
	if !o.ClientOrderID.IsZero() {
		id, err := idChars("OKX clOrdId", &o.ClientOrderID, "", 32)
		if err != nil {
			return a, err
		}
		a.ClOrdID = id
	}
	sh, err := shapeOrder(o, !derivative)
	if err != nil {
		return a, err
	}
	a.ReduceOnly, a.Sz = o.ReduceOnly, sh.qty
	switch {
	case sh.typ == schema.OrderTypeMarket:
		a.OrdType = "market"
		if !derivative {
			a.TgtCcy = "base_ccy"
			if sh.quote {
				a.TgtCcy = "quote_ccy"
			}
		}
	case sh.typ == schema.OrderTypeLimitMaker:
		a.OrdType = "post_only"
	case sh.tif == schema.TIFIOC:
		a.OrdType = "ioc"
	case sh.tif == schema.TIFFOK:
		a.OrdType = "fok"
	default:
		a.OrdType = "limit"
	}
	if sh.typ.NeedsPrice() {
		a.Px = o.Price.String()
	}
	return a, nil
}

// OKXAnswers reads the answers to OKX order operations from the private
// WebSocket's frames. It is not safe for concurrent use: one per
// connection reader. The zero value is ready.
type OKXAnswers struct {
	m     okxAnswerMsg
	elems []span
}

// okxAnswerMsg is an answer {"id","op","code","msg","data":[{"ordId",
// "clOrdId","ts","sCode","sMsg"}],"inTime","outTime"} (OKX v5
// "WebSocket Place order", response).
type okxAnswerMsg struct {
	ID   reqID   `json:"id"`
	Op   text    `json:"op"`
	Code integer `json:"code"`
	Msg  reason  `json:"msg"`
	Data spans   `json:"data"`
	// Not read: inTime, outTime (µs, the gateway's).

	order okxAnswerOrder
}

type okxAnswerOrder struct {
	OrdID   ident   `json:"ordId"`
	ClOrdID ident   `json:"clOrdId"`
	TS      integer `json:"ts"`
	SCode   integer `json:"sCode"`
	SMsg    reason  `json:"sMsg"`
}

var opKey = []byte(`"op"`)

// Read reads frame data into a, reset first. ok is false when data is not
// the answer to an order or cancel-order operation (a push, an event, a
// pong: the parser's). An answer is accepted when code is 0 and its order's
// sCode is 0; otherwise Code and Msg are the order's sCode and sMsg when it
// has them (OKX: code 1 "all failed" and 2 "partially succeeded" say
// more in sCode; code 0 with a non-zero sCode is a refusal too), else the
// top-level code and msg (60013 "Invalid args", …). An answer whose members
// have the wrong kinds is a *ParseError, with ok true and a.RequestID set
// when the id could be read.
func (r *OKXAnswers) Read(data []byte, a *OrderAnswer) (ok bool, err error) {
	a.Reset()
	if !bytes.Contains(data, opKey) {
		return false, nil
	}
	m := &r.m
	*m = okxAnswerMsg{Data: spans{list: &r.elems}}
	if err := decodeAnswer(schema.VenueOKX, data, m); err != nil {
		if !m.Op.ok || !okxOp(m.Op.bytes(), a) {
			a.Reset()
			return false, nil // not an order answer: the parser says what it is
		}
		a.RequestID = m.ID.v
		return true, err
	}
	if !okxOp(m.Op.bytes(), a) {
		return false, nil
	}
	a.RequestID = m.ID.v
	if !m.Code.ok {
		return true, &ParseError{Venue: schema.VenueOKX, Stream: "order answer", Field: "code", Err: ErrMissingField}
	}
	o := &m.order
	if v := firstObject(r.elems, data); v != nil {
		if err := decodeAnswer(schema.VenueOKX, v, o); err != nil {
			return true, err
		}
		a.VenueOrderID, a.ClientOrderID = o.OrdID.v, o.ClOrdID.v
		if o.TS.v > 0 && o.TS.v <= maxMillis {
			a.TS = o.TS.v * 1_000_000
		}
	}
	switch {
	case m.Code.v == 0 && o.SCode.v == 0:
		a.Accepted = true
	case o.SCode.v != 0:
		a.Code, a.Msg = o.SCode.v, string(o.SMsg.bytes())
	default:
		a.Code, a.Msg = m.Code.v, string(m.Msg.bytes())
	}
	return true, nil
}

// okxOp sets a's action from an operation's name; false for operations
// other than order and cancel-order.
func okxOp(op []byte, a *OrderAnswer) bool {
	switch string(op) {
	case "order":
		a.Action = schema.ActionPlace
	case "cancel-order":
		a.Action = schema.ActionCancel
	default:
		return false
	}
	return true
}
