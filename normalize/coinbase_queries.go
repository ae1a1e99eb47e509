package normalize

import (
	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/schema"
)

// Coinbase Advanced Trade REST paths of the order queries (Coinbase
// Advanced Trade API, "Orders → Get Order" (CoinbasePathOrder + the order
// id), "List Fills" (order_ids, limit, cursor), "List Orders"
// (order_status, product_type, limit, cursor)). Each is signed with a JWT
// of its own ([CoinbaseRESTJWT]) and counts against the private REST limit
// of 30 requests per second per user ("REST API Rate Limits"; HTTP 429
// past it).
const (
	CoinbasePathOrder  = "/api/v3/brokerage/orders/historical/"
	CoinbasePathFills  = "/api/v3/brokerage/orders/historical/fills"
	CoinbasePathOrders = "/api/v3/brokerage/orders/historical/batch"
	// CoinbaseQueryLimit is the page size asked of List Fills and List
	// Orders (limit): at most [MaxQueryPage], so that a page is never
	// refused for its length.
	CoinbaseQueryLimit = 100
)

// cbQueryError is the error Coinbase answers a refused REST request with:
// {"error":"NOT_FOUND","code":5,"message":"…","error_details":"…"}.
type cbQueryError struct {
	Error        reason     `json:"error"`
	Code         optInteger `json:"code"`
	Message      reason     `json:"message"`
	ErrorDetails reason     `json:"error_details"`
}

// refusal is the error as a *QueryError; nil when there is none.
func (e *cbQueryError) refusal() error {
	if e.Error.empty() && e.Message.empty() {
		return nil
	}
	msg, last := string(e.Error.bytes()), string(e.Error.bytes())
	for _, r := range [...]*reason{&e.Message, &e.ErrorDetails} {
		if t := string(r.bytes()); t != "" && t != last { // error_details often repeats message
			if msg != "" {
				msg += ": "
			}
			msg, last = msg+t, t
		}
	}
	return &QueryError{Venue: schema.VenueCoinbase, Code: e.Code.v, Msg: msg}
}

// cbQueryOrder is an order of Get Order and List Orders.
type cbQueryOrder struct {
	OrderID       ident         `json:"order_id"`
	ClientOrderID ident         `json:"client_order_id"`
	ProductID     text          `json:"product_id"`
	Side          text          `json:"side"`
	Status        text          `json:"status"`
	TimeInForce   text          `json:"time_in_force"`
	OrderType     text          `json:"order_type"`
	Config        cbOrderConfig `json:"order_configuration"`
	FilledSize    optNum        `json:"filled_size"`
	AvgPrice      optNum        `json:"average_filled_price"`
	FilledValue   optNum        `json:"filled_value"`
	SizeInQuote   boolish       `json:"size_in_quote"`
	CreatedTime   text          `json:"created_time"`
	LastFillTime  text          `json:"last_fill_time"`
	RejectReason  reason        `json:"reject_reason"`
	RejectMessage reason        `json:"reject_message"`
	CancelMessage reason        `json:"cancel_message"`
}

// cbOrderConfig is an order's order_configuration: one member named after
// the order's kind (limit_limit_gtc, market_market_ioc,
// stop_limit_stop_limit_gtd, …) holding its sizes and prices, read
// whatever its name. The stop is stop_limit's stop_price or a bracket's
// stop_trigger_price (trigger_bracket_gtc, trigger_bracket_gtd: Coinbase
// Advanced Trade "Create Order", order_configuration): an order's kind
// has one or the other.
type cbOrderConfig struct{ cbSizes }

type cbSizes struct {
	BaseSize    optNum  `json:"base_size"`
	LimitPrice  optNum  `json:"limit_price"`
	StopPrice   optNum  `json:"stop_price"`
	StopTrigger optNum  `json:"stop_trigger_price"`
	PostOnly    boolish `json:"post_only"`
}

// stop is the order's stop price and the field that said it.
func (c *cbSizes) stop() (schema.Decimal, string) {
	if c.StopPrice.v.Sign() == 0 && c.StopTrigger.v.Sign() != 0 {
		return c.StopTrigger.v, "stop_trigger_price"
	}
	return c.StopPrice.v, "stop_price"
}

var errWantObject = wrapBad("want an object")

func (c *cbOrderConfig) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	if in.PeekKind() == 'n' {
		return in.SkipValue()
	}
	if err := enter(in, '{', errWantObject); err != nil {
		return err
	}
	for in.PeekKind() != '}' {
		if _, err := in.ReadToken(); err != nil { // the kind's name
			return err
		}
		v, err := in.ReadValue()
		if err != nil {
			return err
		}
		if v.Kind() != '{' {
			continue // null: a kind the order is not
		}
		if err := json.Unmarshal(v, &c.cbSizes); err != nil {
			return err
		}
	}
	_, err := in.ReadToken()
	return err
}

// cbQueryFill is a fill of List Fills.
type cbQueryFill struct {
	TradeID    ident  `json:"trade_id"`
	OrderID    ident  `json:"order_id"`
	ProductID  text   `json:"product_id"`
	TradeType  text   `json:"trade_type"`
	Price      optNum `json:"price"`
	Size       optNum `json:"size"`
	Commission optNum `json:"commission"`
	Liquidity  text   `json:"liquidity_indicator"`
	TradeTime  text   `json:"trade_time"`
}

// ParseCoinbaseOrder reads the answer to Get Order ({"order":{…}}) as one
// order. A refusal ({"error","code","message"}) is a [*QueryError] (the
// caller sets its HTTP Status: 404 is an order Coinbase does not have); a
// missing field, an unknown product or a malformed value a [*ParseError]
// naming the field. The order maps as [ParseCoinbaseOrders] says.
func ParseCoinbaseOrder(data []byte, syms *Symbols) ([]QueryOrder, error) {
	const method = "orders/historical"
	var a struct {
		cbQueryError
		Order *cbQueryOrder `json:"order"`
	}
	if err := decodeREST(data, &a, schema.VenueCoinbase, method); err != nil {
		return nil, err
	}
	if err := a.refusal(); err != nil {
		return nil, err
	}
	if a.Order == nil {
		return nil, venueField(schema.VenueCoinbase, method, "order", errMissing)
	}
	return coinbaseOrder(method, a.Order, syms, nil)
}

// ParseCoinbaseOrders reads the answer to List Orders ({"orders":[…],
// "has_next","cursor"}), appending its orders to dst, and returns the next
// page's cursor ("" when has_next is false). Errors as
// [ParseCoinbaseOrder]. For each order: order_id and client_order_id are
// VenueOrderID and ClientOrderID; status maps as on the user channel
// (PENDING and QUEUED PendingNew, OPEN New or, once filled_size > 0,
// PartiallyFilled, FILLED, CANCEL_QUEUED PendingCancel, CANCELLED,
// EXPIRED, FAILED Rejected; any other word, UNKNOWN_ORDER_STATUS too, is a
// *ParseError wrapping ErrUnknownStatus); side, order_type, time_in_force
// and post_only as there; the order_configuration's base_size, limit_price
// and stop_price (a bracket's stop_trigger_price) are Qty, Price and
// StopPrice, and Qty is zero for an
// order sized in the quote currency (size_in_quote); filled_size,
// filled_value and average_filled_price are CumFillQty, CumQuoteQty and
// AvgPrice; created_time is OrderCreated and the later of it and
// last_fill_time TransactTime (RFC 3339, to Unix ns); reject_reason,
// reject_message or cancel_message RejectReason.
func ParseCoinbaseOrders(data []byte, syms *Symbols, dst []QueryOrder) ([]QueryOrder, string, error) {
	const method = "orders/historical/batch"
	var a struct {
		cbQueryError
		Orders  page[cbQueryOrder] `json:"orders"`
		HasNext boolish            `json:"has_next"`
		Cursor  string             `json:"cursor"`
	}
	if err := decodeREST(data, &a, schema.VenueCoinbase, method); err != nil {
		return dst, "", err
	}
	if err := a.refusal(); err != nil {
		return dst, "", err
	}
	for i := range a.Orders {
		var err error
		if dst, err = coinbaseOrder(method, &a.Orders[i], syms, dst); err != nil {
			return dst, "", err
		}
	}
	if !a.HasNext.v {
		return dst, "", nil
	}
	return dst, a.Cursor, nil
}

func coinbaseOrder(method string, q *cbQueryOrder, syms *Symbols, dst []QueryOrder) ([]QueryOrder, error) {
	o, err := orderHead(schema.VenueCoinbase, method, [...]string{"product_id", "order_id", "status"}, syms, &q.ProductID, &q.OrderID,
		&q.ClientOrderID, &q.Status, coinbaseStatuses, &q.Side)
	if err != nil {
		return dst, err
	}
	x := &o.Execution
	x.Type, x.TimeInForce = enum(coinbaseOrderTypes, &q.OrderType), enum(coinbaseTIFs, &q.TimeInForce)
	if q.Config.PostOnly.v && x.Type == schema.OrderTypeLimit {
		x.Type = schema.OrderTypeLimitMaker
	}
	qty := q.Config.BaseSize.num
	if q.SizeInQuote.v {
		qty = num{} // a quote amount: no base quantity (as OKX's tgtCcy quote_ccy)
	}
	if err := queryAmounts(schema.VenueCoinbase, method, x, q.Config.LimitPrice.num, qty, q.FilledSize.num, q.AvgPrice.num); err != nil {
		return dst, err
	}
	stop, stopKey := q.Config.stop()
	if stop.Sign() < 0 {
		return dst, venueField(schema.VenueCoinbase, method, stopKey, errNegative)
	}
	if q.FilledValue.v.Sign() < 0 {
		return dst, venueField(schema.VenueCoinbase, method, "filled_value", errNegative)
	}
	x.StopPrice, x.CumQuoteQty = stop, q.FilledValue.v
	if x.Status == schema.StatusNew && x.CumFillQty.Sign() > 0 {
		x.Status = schema.StatusPartiallyFilled
	}
	for _, r := range [...]*reason{&q.RejectReason, &q.RejectMessage, &q.CancelMessage} {
		if !r.empty() && x.RejectReason == "" {
			x.RejectReason = string(r.bytes())
		}
	}
	created, ok := queryTime(&q.CreatedTime)
	if !ok {
		return dst, venueField(schema.VenueCoinbase, method, "created_time", errBadTime)
	}
	last, ok := queryTime(&q.LastFillTime)
	if !ok {
		return dst, venueField(schema.VenueCoinbase, method, "last_fill_time", errBadTime)
	}
	x.OrderCreated, x.TransactTime = created, max(created, last)
	return append(dst, o), nil
}

var errBadTime = wrapBad("want an RFC 3339 time")

// queryTime reads an optional RFC 3339 time: absent or empty is 0.
func queryTime(t *text) (int64, bool) {
	if !t.ok || t.n == 0 {
		return 0, true
	}
	return parseRFC3339(t.bytes())
}

// ParseCoinbaseFills reads the answer to List Fills ({"fills":[…],
// "cursor"}), appending the fills to dst, and returns the next page's
// cursor ("" after the last page). Errors as [ParseCoinbaseOrder]; a fill
// without a trade id, an order id, a positive price and size is a
// [*ParseError]. Only fills count (trade_type FILL, or none); REVERSAL,
// CORRECTION and SYNTHETIC entries are left out. trade_id is TradeID (not
// an integer: fills are ordered by trade_time), price and size Price and
// Qty, and price × size QuoteQty (rounded half to even when a Decimal
// cannot hold it exactly: Coinbase sizes carry up to 16 digits after the
// point). size is in the base currency whatever
// size_in_quote says, which tells how the order was placed (ccxt's sample
// answer: size_in_quote true, size 0.0046830664333996 at 21220.64 for a
// buy of about 100 USDT). commission is Fee, paid in the product's quote
// currency (FeeAsset, as on the user channel); liquidity_indicator MAKER
// is IsMaker, TAKER not, UNKNOWN_LIQUIDITY_INDICATOR, none sent or a
// word outside that enum (one Coinbase adds later) MakerUnknown, never a
// guess of either — such a fill's price, size and fee are known, so the
// page is kept, not refused over it; trade_time (RFC 3339) is Time.
func ParseCoinbaseFills(data []byte, syms *Symbols, dst []QueryFill) ([]QueryFill, string, error) {
	const method = "orders/historical/fills"
	var a struct {
		cbQueryError
		Fills  page[cbQueryFill] `json:"fills"`
		Cursor string            `json:"cursor"`
	}
	if err := decodeREST(data, &a, schema.VenueCoinbase, method); err != nil {
		return dst, "", err
	}
	if err := a.refusal(); err != nil {
		return dst, "", err
	}
	for i := range a.Fills {
		q := &a.Fills[i]
		if tt := string(q.TradeType.bytes()); tt != "" && tt != "FILL" {
			continue
		}
		var f QueryFill
		var err error
		if f.Symbol, err = venueSymbol(schema.VenueCoinbase, method, "product_id", syms, &q.ProductID); err != nil {
			return dst, "", err
		}
		if err := checkFill(schema.VenueCoinbase, method, [...]string{"trade_id", "order_id", "price", "size"},
			&q.TradeID, &q.OrderID, &q.Price.num, &q.Size.num); err != nil {
			return dst, "", err
		}
		f.TradeID, f.OrderID, f.Price, f.Qty = q.TradeID.v, q.OrderID.v, q.Price.v, q.Size.v
		if f.QuoteQty, err = mulRounded(f.Price, f.Qty); err != nil {
			return dst, "", venueField(schema.VenueCoinbase, method, "size", err)
		}
		f.Fee = q.Commission.v
		if i := lastDash(f.Symbol); i >= 0 {
			_ = f.FeeAsset.Set(f.Symbol[i+1:])
		}
		switch string(q.Liquidity.bytes()) {
		case "MAKER":
			f.IsMaker = true
		case "TAKER":
		default: // UNKNOWN_LIQUIDITY_INDICATOR, none, or a word added since: neither, not a taker
			f.MakerUnknown = true
		}
		var ok bool
		if f.Time, ok = queryTime(&q.TradeTime); !ok {
			return dst, "", venueField(schema.VenueCoinbase, method, "trade_time", errBadTime)
		}
		dst = append(dst, f)
	}
	return dst, a.Cursor, nil
}
