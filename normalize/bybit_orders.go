package normalize

import (
	"bytes"
	"strconv"
	"time"

	"github.com/meltica/meltica/schema"
)

// BybitTradeAuth returns the auth request of Bybit's trade WebSocket
// (Bybit v5, "WebSocket Trade Guideline": wss://stream.bybit.com/v5/trade,
// testnet wss://stream-testnet.bybit.com/v5/trade): {"reqId","op":"auth",
// "args":[apiKey, expires, signature]}, signed as [BybitAuth] is (expires
// in Unix ms, after which the request is refused: make it anew for every
// connection, with the venue's time). The answer is {"retCode":0,
// "retMsg":"OK","op":"auth","connId"}: a schema.ControlSubscribeAck, or a
// schema.ControlVenueError with retCode (10004 invalid sign, 10001 param
// error, 20001 repeat auth).
func BybitTradeAuth(creds *Credentials, reqID uint64, expires time.Time) ([]byte, error) {
	args, err := bybitAuthArgs(creds, expires)
	if err != nil {
		return nil, err
	}
	return marshalRequest(&struct {
		ReqID string `json:"reqId"`
		Op    string `json:"op"`
		Args  []any  `json:"args"`
	}{strconv.FormatUint(reqID, 10), "auth", args})
}

// BybitOrders encodes order requests as Bybit v5 trade WebSocket requests
// (Bybit v5, "WebSocket Trade Guideline"; the args are those of REST
// "Place Order" and "Cancel Order"): {"reqId","header":{"X-BAPI-TIMESTAMP",
// "X-BAPI-RECV-WINDOW"},"op":"order.create"|"order.cancel","args":[{…}]},
// sent on the trade WebSocket once [BybitTradeAuth] is accepted. Bybit
// refuses a request unless server time − recvWindow ≤ timestamp < server
// time + 1 s: the timestamp is the caller's venue time now.
//
// Place: category, symbol, side (Buy, Sell), orderType (Market, Limit),
// qty, price (limit), timeInForce (GTC unless IOC or FOK; PostOnly for
// LimitMaker or PostOnly; not sent for market orders), orderLinkId, and for
// spot market orders marketUnit (baseCoin when Qty is given, quoteCoin
// when QuoteQty is: Bybit's default for a spot market buy is the quote
// coin, so it is always sent); reduceOnly for derivatives only (a spot
// order cannot reduce a position: ErrUnsupported). Stop and take-profit
// orders (conditional orders, which need a trigger direction) and TIF
// GTX (use PostOnly) are ErrUnsupported.
//
// Cancel: category, symbol, orderId (VenueOrderID) or orderLinkId
// (OrigClientOrderID).
//
// Ids: reqId is the decimal request id (Bybit: at most 36 characters,
// unique, else 20006); orderLinkId 1 to 36 of letters, digits, - and _
// (Bybit's rule, checked here).
//
// It is safe for concurrent use. Make it with [NewBybitOrders].
type BybitOrders struct {
	syms       *Symbols
	category   string
	recvWindow string
}

// BybitOrderOptions configure a [BybitOrders]. A nil *BybitOrderOptions
// means the defaults.
type BybitOrderOptions struct {
	// Symbols turns canonical symbols into Bybit's. Defaults to a new
	// registry with [BybitSymbolRules].
	Symbols *Symbols
	// Category is Bybit's product category sent with every request:
	// "spot", "linear", "inverse" or "option". Bybit spells a spot pair and
	// its linear perpetual alike (BTCUSDT), so the category cannot be read
	// from the symbol. Defaults to "spot".
	Category string
	// RecvWindow is sent as X-BAPI-RECV-WINDOW, in whole milliseconds.
	// Defaults to 5 s (Bybit's own default).
	RecvWindow time.Duration
}

// NewBybitOrders returns a Bybit order encoder.
func NewBybitOrders(opts *BybitOrderOptions) *BybitOrders {
	var o BybitOrderOptions
	if opts != nil {
		o = *opts
	}
	if o.Symbols == nil {
		o.Symbols = NewSymbols(BybitSymbolRules())
	}
	if o.Category == "" {
		o.Category = "spot"
	}
	if o.RecvWindow <= 0 {
		o.RecvWindow = 5 * time.Second
	}
	return &BybitOrders{syms: o.Symbols, category: o.Category, recvWindow: strconv.FormatInt(o.RecvWindow.Milliseconds(), 10)}
}

// bybitRequest is a trade WebSocket request; Args holds one order's.
type bybitRequest struct {
	ReqID  string      `json:"reqId"`
	Header bybitHeader `json:"header"`
	Op     string      `json:"op"`
	Args   any         `json:"args"`
}

type bybitHeader struct {
	Timestamp  string `json:"X-BAPI-TIMESTAMP"`
	RecvWindow string `json:"X-BAPI-RECV-WINDOW"`
}

type bybitPlaceArg struct {
	Category    string `json:"category"`
	Symbol      string `json:"symbol"`
	Side        string `json:"side"`
	OrderType   string `json:"orderType"`
	Qty         string `json:"qty"`
	Price       string `json:"price,omitempty"`
	TimeInForce string `json:"timeInForce,omitempty"`
	OrderLinkID string `json:"orderLinkId,omitempty"`
	MarketUnit  string `json:"marketUnit,omitempty"`
	ReduceOnly  bool   `json:"reduceOnly,omitzero"`
}

type bybitCancelArg struct {
	Category    string `json:"category"`
	Symbol      string `json:"symbol"`
	OrderID     string `json:"orderId,omitempty"`
	OrderLinkID string `json:"orderLinkId,omitempty"`
}

// AppendRequest appends to dst the request for o (order.create or
// order.cancel, by o.Action) with request id id, stamped with now (the
// venue's time). Errors: o's validation error, ErrUnknownSymbol,
// ErrUnsupported (an order this encoder cannot express on Bybit),
// ErrBadValue (an id outside Bybit's rules); dst is returned unchanged with
// them.
func (e *BybitOrders) AppendRequest(dst []byte, id uint64, o *schema.OrderRequest, now time.Time) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return dst, err
	}
	sym, err := e.syms.VenueSymbol(o.Symbol)
	if err != nil {
		return dst, err
	}
	hdr := bybitHeader{Timestamp: strconv.FormatInt(now.UnixMilli(), 10), RecvWindow: e.recvWindow}
	reqID := strconv.FormatUint(id, 10)
	if o.Action == schema.ActionCancel {
		arg := bybitCancelArg{Category: e.category, Symbol: sym}
		if !o.VenueOrderID.IsZero() {
			if arg.OrderID, err = idChars("Bybit orderId", &o.VenueOrderID, "-", 47); err != nil {
				return dst, err
			}
		}
		if !o.OrigClientOrderID.IsZero() {
			if arg.OrderLinkID, err = idChars("Bybit orderLinkId", &o.OrigClientOrderID, "-_", 36); err != nil {
				return dst, err
			}
		}
		return orderRequestJSON(dst, &bybitRequest{reqID, hdr, "order.cancel", []bybitCancelArg{arg}})
	}
	arg, err := e.placeArg(sym, o)
	if err != nil {
		return dst, err
	}
	return orderRequestJSON(dst, &bybitRequest{reqID, hdr, "order.create", []bybitPlaceArg{arg}})
}

func (e *BybitOrders) placeArg(sym string, o *schema.OrderRequest) (bybitPlaceArg, error) {
	spot := e.category == "spot"
	a := bybitPlaceArg{Category: e.category, Symbol: sym, Side: "Buy"}
	if o.Side == schema.SideSell {
		a.Side = "Sell"
	}
	if !o.ClientOrderID.IsZero() {
		id, err := idChars("Bybit orderLinkId", &o.ClientOrderID, "-_", 36)
		if err != nil {
			return a, err
		}
		a.OrderLinkID = id
	}
	sh, err := shapeOrder(o, spot)
	if err != nil {
		return a, err
	}
	a.ReduceOnly, a.Qty = o.ReduceOnly, sh.qty
	switch sh.typ {
	case schema.OrderTypeMarket:
		a.OrderType = "Market"
		if spot {
			a.MarketUnit = "baseCoin"
			if sh.quote {
				a.MarketUnit = "quoteCoin"
			}
		}
	case schema.OrderTypeLimitMaker:
		a.OrderType, a.TimeInForce = "Limit", "PostOnly"
	default:
		a.OrderType, a.TimeInForce = "Limit", sh.tif.String()
	}
	if sh.typ.NeedsPrice() {
		a.Price = o.Price.String()
	}
	return a, nil
}

// BybitAnswers reads the answers to Bybit order.create and order.cancel
// requests from the trade WebSocket's frames. It is not safe for
// concurrent use: one per connection reader. The zero value is ready.
type BybitAnswers struct {
	m     bybitAnswerMsg
	elems []span
}

// bybitAnswerMsg is an answer {"reqId","retCode","retMsg","op","data":
// {"orderId","orderLinkId"},"retExtInfo","header":{"Timenow",…},"connId"}
// (Bybit v5 "WebSocket Trade Guideline", response).
type bybitAnswerMsg struct {
	ReqID   reqID   `json:"reqId"`
	Op      text    `json:"op"`
	RetCode integer `json:"retCode"`
	RetMsg  reason  `json:"retMsg"`
	Data    spans   `json:"data"`
	Header  struct {
		Timenow integer `json:"Timenow"` // ms
		// LimitReset is when the rate limit's window resets, ms (Bybit
		// v5 "Rate Limit Rules": X-Bapi-Limit-Reset-Timestamp).
		LimitReset integer `json:"X-Bapi-Limit-Reset-Timestamp"`
	} `json:"header"`

	order struct {
		OrderID     ident `json:"orderId"`
		OrderLinkID ident `json:"orderLinkId"`
	}
}

// Read reads frame data into a, reset first. ok is false when data is not
// the answer to an order.create or order.cancel request (auth, pong:
// the parser's). retCode 0 is accepted; any other is a refusal with the
// venue's retCode and retMsg (10001 params error, 110001 order does not
// exist, 170xxx spot refusals, …); a refusal for the rate limit (10006)
// carries the header's X-Bapi-Limit-Reset-Timestamp as RetryAfter. An
// answer whose members have the wrong
// kinds is a *ParseError, with ok true and a.RequestID set when the id
// could be read.
func (r *BybitAnswers) Read(data []byte, a *OrderAnswer) (ok bool, err error) {
	a.Reset()
	if !bytes.Contains(data, opKey) {
		return false, nil
	}
	m := &r.m
	*m = bybitAnswerMsg{Data: spans{list: &r.elems}}
	if err := decodeAnswer(schema.VenueBybit, data, m); err != nil {
		if !m.Op.ok || !bybitOp(m.Op.bytes(), a) {
			a.Reset()
			return false, nil // not an order answer: the parser says what it is
		}
		a.RequestID = m.ReqID.v
		return true, err
	}
	if !bybitOp(m.Op.bytes(), a) {
		return false, nil
	}
	a.RequestID = m.ReqID.v
	if !m.RetCode.ok {
		return true, &ParseError{Venue: schema.VenueBybit, Stream: "order answer", Field: "retCode", Err: ErrMissingField}
	}
	if v := firstObject(r.elems, data); v != nil {
		if err := decodeAnswer(schema.VenueBybit, v, &m.order); err != nil {
			return true, err
		}
		a.VenueOrderID, a.ClientOrderID = m.order.OrderID.v, m.order.OrderLinkID.v
	}
	if t := m.Header.Timenow.v; t > 0 && t <= maxMillis {
		a.TS = t * 1_000_000
	}
	if m.RetCode.v == 0 {
		a.Accepted = true
	} else {
		a.Code, a.Msg = m.RetCode.v, string(m.RetMsg.bytes())
	}
	if t := m.Header.LimitReset.v; m.RetCode.v == bybitRateLimited && t > 0 && t <= maxMillis {
		a.RetryAfter = t * 1_000_000
	}
	return true, nil
}

// bybitRateLimited is Bybit's retCode for a request over its rate limit
// ("Too many visits. Exceeded the API Rate Limit.", Bybit v5 "Error
// Codes").
const bybitRateLimited = 10006

// bybitOp sets a's action from an op; false for ops other than
// order.create and order.cancel.
func bybitOp(op []byte, a *OrderAnswer) bool {
	switch string(op) {
	case "order.create":
		a.Action = schema.ActionPlace
	case "order.cancel":
		a.Action = schema.ActionCancel
	default:
		return false
	}
	return true
}
