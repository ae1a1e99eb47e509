package normalize

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/goccy/go-json/jsontext"

	"github.com/meltica/meltica/schema"
)

// KrakenOrders encodes order requests as Kraken spot WebSocket v2 trading
// requests (Kraken "Spot WebSocket v2 → add_order" and "cancel_order"),
// sent on the authenticated WebSocket (wss://ws-auth.kraken.com/v2):
// {"method":"add_order"|"cancel_order","params":{…,"token"},"req_id"}.
// Every request carries the WebSocket token of [FetchKrakenWebSocketsToken]
// (Kraken "Spot REST → GetWebSocketsToken"); the connection needs no login
// of its own.
//
// add_order: order_type, side (buy, sell), order_qty, symbol (v2's
// BASE/QUOTE, "BTC/USD": the canonical symbol's, never v1's "XBT/USD"), and as the order needs them limit_price, time_in_force,
// post_only, triggers, cash_order_qty, cl_ord_id. Quantities and prices
// are JSON numbers written with the request's digits, as Kraken's examples
// send them. order_type: Market is market; Limit is limit, with
// time_in_force gtc (GTC or none given) or ioc (IOC); LimitMaker, or Limit
// with PostOnly, is limit with post_only true (GTC). StopLoss, TakeProfit
// are stop-loss, take-profit (market once triggered) and StopLossLimit,
// TakeProfitLimit stop-loss-limit, take-profit-limit (limit_price the
// limit), each with triggers {"reference":"last","price":StopPrice,
// "price_type":"static"}: the stop price is an absolute price, compared
// with the last trade. A market buy by quote amount (QuoteQty) is sent as
// cash_order_qty, which Kraken takes for buy market orders only.
//
// Not expressible, ErrUnsupported: TIF FOK (Kraken's add_order has gtc,
// gtd and ioc only) and GTX (use PostOnly); post-only on an order that is
// not a limit order, or with IOC; a quote quantity on a market sell;
// reduce-only (a margin order's flag: these are spot orders).
//
// cancel_order: order_id (VenueOrderID) or cl_ord_id (OrigClientOrderID),
// one list each, which Kraken does not take together: with both, the
// Kraken order id is sent (the order's own, unique for all time).
//
// Ids: the request id is req_id, an integer Kraken echoes. A cl_ord_id
// must be one of Kraken's three forms (Kraken "Spot Client Order
// Identifiers"): a long UUID (36 characters: 8-4-4-4-12 hex digits with
// hyphens), a short UUID (32 hex digits), or free text of 1 to 18
// printable ASCII characters; Kraken order ids are letters, digits and
// hyphens ("OCNNCT-MEB2I-2XGM7L"). Anything else is ErrBadValue, sent
// nowhere.
//
// It is safe for concurrent use. Make it with [NewKrakenOrders].
type KrakenOrders struct {
	syms *Symbols
}

// KrakenOrderOptions configure a [KrakenOrders]. A nil *KrakenOrderOptions
// means the defaults.
type KrakenOrderOptions struct {
	// Symbols checks canonical symbols (BASE-QUOTE; the v2 pair is
	// BASE/QUOTE: "BTC-USD" → "BTC/USD"). Defaults to a new registry with
	// [KrakenSymbolRules].
	Symbols *Symbols
}

// NewKrakenOrders returns a Kraken v2 order encoder.
func NewKrakenOrders(opts *KrakenOrderOptions) *KrakenOrders {
	e := &KrakenOrders{}
	if opts != nil {
		e.syms = opts.Symbols
	}
	if e.syms == nil {
		e.syms = NewSymbols(KrakenSymbolRules())
	}
	return e
}

// krakenRequest is a v2 trading request; Params is the method's.
type krakenRequest struct {
	Method string `json:"method"`
	Params any    `json:"params"`
	ReqID  uint64 `json:"req_id"`
}

// krakenAddParams are the params of add_order (Kraken "add_order",
// request).
type krakenAddParams struct {
	OrderType    string          `json:"order_type"`
	Side         string          `json:"side"`
	OrderQty     jsontext.Value  `json:"order_qty,omitempty"`
	CashOrderQty jsontext.Value  `json:"cash_order_qty,omitempty"`
	Symbol       string          `json:"symbol"`
	LimitPrice   jsontext.Value  `json:"limit_price,omitempty"`
	TimeInForce  string          `json:"time_in_force,omitempty"`
	PostOnly     bool            `json:"post_only,omitzero"`
	Triggers     *krakenTriggers `json:"triggers,omitempty"`
	ClOrdID      string          `json:"cl_ord_id,omitempty"`
	Token        string          `json:"token"`
}

// krakenTriggers is the trigger of a stop or take-profit order.
type krakenTriggers struct {
	Reference string         `json:"reference"`
	Price     jsontext.Value `json:"price"`
	PriceType string         `json:"price_type"`
}

// krakenCancelParams are the params of cancel_order (Kraken
// "cancel_order", request).
type krakenCancelParams struct {
	OrderID []string `json:"order_id,omitempty"`
	ClOrdID []string `json:"cl_ord_id,omitempty"`
	Token   string   `json:"token"`
}

// AppendRequest appends to dst the add_order or cancel_order request (by
// o.Action) for o with request id id and WebSocket token token. The
// venue's answer carries id back ([KrakenAnswers]). Errors: o's validation
// error, ErrUnknownSymbol, ErrUnsupported (an order add_order cannot
// express), ErrBadValue (an id outside Kraken's forms, a token that cannot
// be one); dst is returned unchanged with them.
func (e *KrakenOrders) AppendRequest(dst []byte, id uint64, o *schema.OrderRequest, token string) ([]byte, error) {
	if err := checkKrakenToken(token); err != nil {
		return dst, err
	}
	params, err := e.params(o)
	if err != nil {
		return dst, err
	}
	switch p := params.(type) {
	case *krakenAddParams:
		p.Token = token
		return orderRequestJSON(dst, &krakenRequest{"add_order", p, id})
	case *krakenCancelParams:
		p.Token = token
		return orderRequestJSON(dst, &krakenRequest{"cancel_order", p, id})
	}
	return dst, fmt.Errorf("%w: no Kraken request for %s", ErrUnsupported, o.Action)
}

// Check reports, without a token, the error AppendRequest would return
// for o: nil when Kraken's add_order or cancel_order can express it.
func (e *KrakenOrders) Check(o *schema.OrderRequest) error {
	_, err := e.params(o)
	return err
}

func (e *KrakenOrders) params(o *schema.OrderRequest) (any, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Action == schema.ActionCancel {
		p := &krakenCancelParams{}
		if !o.VenueOrderID.IsZero() {
			oid, err := idChars("Kraken order_id", &o.VenueOrderID, "-", 36)
			if err != nil {
				return nil, err
			}
			p.OrderID = []string{oid}
			return p, nil
		}
		cid, err := krakenClOrdID(&o.OrigClientOrderID)
		if err != nil {
			return nil, err
		}
		p.ClOrdID = []string{cid}
		return p, nil
	}
	if _, err := e.syms.VenueSymbol(o.Symbol); err != nil {
		return nil, err
	}
	// The v2 pair is the canonical symbol with a slash: v2 names assets as
	// the registry's aliases do (BTC, not v1's XBT; DOGE, not XDG), and
	// the registry's venue names, learnt from AssetPairs' v1 wsname, are
	// v1's.
	base, quote, _ := strings.Cut(o.Symbol, "-")
	return krakenAdd(base+"/"+quote, o)
}

// krakenAdd shapes a placement as add_order takes it.
func krakenAdd(pair string, o *schema.OrderRequest) (*krakenAddParams, error) {
	p := &krakenAddParams{Symbol: pair, Side: "buy"}
	if o.Side == schema.SideSell {
		p.Side = "sell"
	}
	typ, tif := o.Type, o.TimeInForce
	switch {
	case o.ReduceOnly:
		return nil, fmt.Errorf("%w: reduce-only is for Kraken margin orders; these are spot", ErrUnsupported)
	case tif == schema.TIFGTX:
		return nil, fmt.Errorf("%w: GTX: use PostOnly", ErrUnsupported)
	case tif == schema.TIFFOK:
		return nil, fmt.Errorf("%w: Kraken's add_order has no FOK (gtc, gtd, ioc)", ErrUnsupported)
	case o.PostOnly && typ != schema.OrderTypeLimit && typ != schema.OrderTypeLimitMaker:
		return nil, fmt.Errorf("%w: post-only needs a limit order", ErrUnsupported)
	case (o.PostOnly || typ == schema.OrderTypeLimitMaker) && tif == schema.TIFIOC:
		return nil, fmt.Errorf("%w: a post-only order is GTC", ErrUnsupported)
	case o.QuoteQty.Sign() > 0 && o.Side != schema.SideBuy:
		return nil, fmt.Errorf("%w: Kraken takes a quote quantity (cash_order_qty) for market buys only", ErrUnsupported)
	}
	switch typ {
	case schema.OrderTypeMarket:
		p.OrderType = "market"
	case schema.OrderTypeLimit, schema.OrderTypeLimitMaker:
		p.OrderType = "limit"
		p.PostOnly = o.PostOnly || typ == schema.OrderTypeLimitMaker
		p.TimeInForce = "gtc"
		if tif == schema.TIFIOC {
			p.TimeInForce = "ioc"
		}
	case schema.OrderTypeStopLoss:
		p.OrderType = "stop-loss"
	case schema.OrderTypeStopLossLimit:
		p.OrderType = "stop-loss-limit"
	case schema.OrderTypeTakeProfit:
		p.OrderType = "take-profit"
	case schema.OrderTypeTakeProfitLimit:
		p.OrderType = "take-profit-limit"
	default:
		return nil, fmt.Errorf("%w: %s orders", ErrUnsupported, typ)
	}
	if typ.Conditional() {
		if typ.NeedsPrice() && tif == schema.TIFIOC {
			p.TimeInForce = "ioc"
		}
		p.Triggers = &krakenTriggers{Reference: "last", Price: jsontext.Value(o.StopPrice.String()), PriceType: "static"}
	}
	if o.Qty.Sign() > 0 {
		p.OrderQty = jsontext.Value(o.Qty.String())
	} else {
		p.CashOrderQty = jsontext.Value(o.QuoteQty.String())
	}
	if typ.NeedsPrice() {
		p.LimitPrice = jsontext.Value(o.Price.String())
	}
	if !o.ClientOrderID.IsZero() {
		cid, err := krakenClOrdID(&o.ClientOrderID)
		if err != nil {
			return nil, err
		}
		p.ClOrdID = cid
	}
	return p, nil
}

// krakenClOrdID checks a client order id against Kraken's three forms
// (Kraken "Spot Client Order Identifiers"): a long UUID, a short UUID, or
// free text of at most 18 printable ASCII characters.
func krakenClOrdID(id *schema.ID) (string, error) {
	b := id.Bytes()
	if isUUID(b) || (len(b) == 32 && allHex(b)) {
		return string(b), nil
	}
	ok := len(b) > 0 && len(b) <= 18
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			ok = false
		}
	}
	if !ok {
		return "", fmt.Errorf("%w: Kraken cl_ord_id %q is no UUID (36 or 32 hex), nor 1 to 18 printable ASCII characters", ErrBadValue, b)
	}
	return string(b), nil
}

// isUUID: 8-4-4-4-12 hex digits.
func isUUID(b []byte) bool {
	if len(b) != 36 {
		return false
	}
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHexByte(c) {
				return false
			}
		}
	}
	return true
}

func allHex(b []byte) bool {
	for _, c := range b {
		if !isHexByte(c) {
			return false
		}
	}
	return true
}

func isHexByte(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// KrakenAnswers reads the answers to add_order and cancel_order from the
// authenticated WebSocket's frames. It is not safe for concurrent use: one
// per connection reader. The zero value is ready.
type KrakenAnswers struct {
	m krakenAnswerMsg
}

// krakenAnswerMsg is an answer {"method","req_id","result":{"order_id",
// "cl_ord_id","order_userref","warnings"},"success","error","time_in",
// "time_out"} (Kraken "add_order" and "cancel_order", response).
type krakenAnswerMsg struct {
	Method  text   `json:"method"`
	ReqID   reqID  `json:"req_id"`
	Success flag   `json:"success"`
	Error   reason `json:"error"`
	Result  struct {
		OrderID ident `json:"order_id"`
		ClOrdID ident `json:"cl_ord_id"`
		// Not read: order_userref, warnings.
	} `json:"result"`
	TimeOut text `json:"time_out"` // RFC 3339, µs
	// Not read: time_in.
}

var methodKey = []byte(`"method"`)

// Read reads frame data into a, reset first. ok is false when data is not
// the answer to add_order or cancel_order (a channel message, a
// subscription's ack, a pong: the parser's). success true is accepted
// (VenueOrderID the result's order_id, ClientOrderID its cl_ord_id, TS the
// answer's time_out); false is a refusal whose Msg is Kraken's error
// string ("EOrder:Insufficient funds", "EGeneral:Invalid arguments", …:
// Kraken "Spot Error Messages") and whose Code is 0: Kraken's errors carry
// no number, their category is the text before the colon. An answer
// without success, or whose members have the wrong kinds, is a
// *ParseError, with ok true and a.RequestID set when the id could be read.
func (r *KrakenAnswers) Read(data []byte, a *OrderAnswer) (ok bool, err error) {
	a.Reset()
	if !bytes.Contains(data, methodKey) {
		return false, nil
	}
	m := &r.m
	*m = krakenAnswerMsg{}
	derr := decodeAnswer(schema.VenueKraken, data, m)
	// The method decides, whether the rest decoded or not: an answer the
	// session cannot read still ends its caller's wait.
	act, known := krakenMethods[string(m.Method.bytes())]
	if !m.Method.ok || !known {
		a.Reset()
		return false, nil // not an order answer: the parser says what it is
	}
	a.Action, a.RequestID = act, m.ReqID.v
	switch {
	case derr != nil:
		return true, derr
	case !m.Success.ok:
		return true, &ParseError{Venue: schema.VenueKraken, Stream: "order answer", Field: "success", Err: ErrMissingField}
	}
	a.VenueOrderID, a.ClientOrderID = m.Result.OrderID.v, m.Result.ClOrdID.v
	if ts, ok := parseRFC3339(m.TimeOut.bytes()); ok {
		a.TS = ts
	}
	if m.Success.v {
		a.Accepted = true
		return true, nil
	}
	a.Msg = string(m.Error.bytes())
	if a.Msg == "" {
		a.Msg = "refused without an error message"
	}
	return true, nil
}

// krakenMethods are the methods whose answers [KrakenAnswers] reads, and
// the action each answers.
var krakenMethods = map[string]schema.OrderAction{"add_order": schema.ActionPlace, "cancel_order": schema.ActionCancel}
