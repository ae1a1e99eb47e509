package normalize

import (
	"fmt"
	"strconv"
	"time"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/schema"
)

// The REST queries that tell what became of an order while a venue's
// private WebSocket was down (OKX v5 and Bybit v5; Binance's are the
// WS-API queries of binance_queries.go). Their answers are read into
// venue-neutral [QueryOrder] and [QueryFill] values.

// QueryOrder is an order as a venue's order query answers it: the
// canonical symbol, and in Execution its ids, side, type, time in force,
// status, price, quantity, executed quantity (CumFillQty), cumulative quote
// quantity, remaining quantity, average price, creation time (OrderCreated,
// Unix ns) and last update (TransactTime, Unix ns). Its layout is
// [BinanceOrder]'s: one converts to the other.
type QueryOrder struct {
	Symbol string
	schema.Execution
}

// QueryFill is one fill of one of the account's orders as a venue's fill
// query answers it.
type QueryFill struct {
	Symbol   string // canonical
	TradeID  schema.ID
	OrderID  schema.ID
	Price    schema.Decimal
	Qty      schema.Decimal
	QuoteQty schema.Decimal // price × quantity when the venue does not say
	Fee      schema.Decimal // what was paid (a rebate is negative), in FeeAsset
	FeeAsset schema.ID
	Time     int64 // Unix ns
	// IsMaker: the fill made liquidity. MakerUnknown: the venue did not
	// say whether it made or took it (Coinbase List Fills
	// liquidity_indicator UNKNOWN_LIQUIDITY_INDICATOR, none sent, or a
	// word outside MAKER, TAKER and that);
	// IsMaker is then false and means neither. The schema has no third
	// state of its own (schema.Execution.IsMaker is a bool).
	IsMaker      bool
	MakerUnknown bool
	// CumFillQty is the order's executed quantity after this fill when
	// the venue says it (Bybit: orderQty − leavesQty); zero otherwise.
	CumFillQty schema.Decimal
	// PageKey is the venue's pagination key of the fill (OKX: billId);
	// empty where the venue pages otherwise.
	PageKey schema.ID
}

// QueryError is a REST query a venue refused: the venue's code and
// message (OKX: code ≠ "0", such as 50011 rate limit, 51603 order does not
// exist; Bybit: retCode ≠ 0, such as 10006 rate limit, 10002 timestamp
// outside recv_window, 110001 order does not exist). Status is the HTTP
// status, when the caller sets it (the decoders do not see it).
type QueryError struct {
	Venue  schema.Venue
	Status int
	Code   int64
	Msg    string
}

func (e *QueryError) Error() string {
	return "normalize: " + string(e.Venue) + " query refused: status " + strconv.Itoa(e.Status) +
		" code " + strconv.FormatInt(e.Code, 10) + ": " + e.Msg
}

// OKX v5 REST paths of the order queries (OKX v5 API, "Trade → Get order
// details", "Get order List" (pending), "Get transaction details (last 3
// days)"). Each is limited to 60 requests per 2 s per user ID.
const (
	OKXPathOrder         = "/api/v5/trade/order"
	OKXPathOrdersPending = "/api/v5/trade/orders-pending"
	OKXPathFills         = "/api/v5/trade/fills"
	// OKXQueryLimit is the most orders or fills one page carries (limit,
	// default and maximum 100); an older page is asked for with after =
	// the last ordId (orders) or billId (fills).
	OKXQueryLimit = 100
)

// SignOKXREST returns the headers of a signed OKX v5 REST request (OKX v5
// API, "REST Authentication"): OK-ACCESS-KEY, OK-ACCESS-SIGN — the Base64
// of the HMAC-SHA256, under the secret, of timestamp + method +
// requestPath (with its query string) + body —, OK-ACCESS-TIMESTAMP (ISO
// 8601 with milliseconds, UTC) and OK-ACCESS-PASSPHRASE. now is the
// venue's time: OKX refuses a request more than 30 s from its clock
// (50102).
func SignOKXREST(apiKey, passphrase string, secret []byte, now time.Time, method, requestPath, body string) (map[string]string, error) {
	if apiKey == "" || passphrase == "" || len(secret) == 0 {
		return nil, fmt.Errorf("%w: OKX requests need an API key, its passphrase and its secret", ErrBadValue)
	}
	ts := now.UTC().Format("2006-01-02T15:04:05.000Z")
	return map[string]string{
		"OK-ACCESS-KEY":        apiKey,
		"OK-ACCESS-SIGN":       okxSign(secret, ts+method+requestPath+body),
		"OK-ACCESS-TIMESTAMP":  ts,
		"OK-ACCESS-PASSPHRASE": passphrase,
	}, nil
}

// okxQueryFill is a fill of "Get transaction details".
type okxQueryFill struct {
	InstID   text       `json:"instId"`
	TradeID  ident      `json:"tradeId"`
	OrdID    ident      `json:"ordId"`
	BillID   ident      `json:"billId"`
	FillPx   optNum     `json:"fillPx"`
	FillSz   optNum     `json:"fillSz"`
	Fee      optNum     `json:"fee"`
	FeeCcy   ident      `json:"feeCcy"`
	ExecType text       `json:"execType"`
	TS       optInteger `json:"ts"`
	FillTime optInteger `json:"fillTime"`
}

// okxAnswer is OKX's REST envelope: {"code":"0","msg":"","data":[…]}.
type okxAnswer[T any] struct {
	Code optInteger `json:"code"`
	Msg  string     `json:"msg"`
	Data page[T]    `json:"data"`
}

// MaxQueryPage is the most entries one page of a REST query answer may
// list: the venues' largest page (OKX v5 limit ≤ 100 for "Get order List"
// and "Get transaction details"; Bybit v5 ≤ 50 orders, ≤ 100 executions).
// An answer listing more is a [*ParseError] (ErrMalformed), refused before
// its entries are decoded.
const MaxQueryPage = 100

// errPageTooLong: an answer listing more than MaxQueryPage entries.
var errPageTooLong = wrapBad("more entries than a page holds")

// page is the list of a REST answer, decoded entry by entry and refused
// past MaxQueryPage entries: an answer of a million empty objects costs
// its bytes, not a million structs of ~2 KB (null is an empty list).
type page[T any] []T

func (p *page[T]) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	switch in.PeekKind() {
	case 'n':
		return in.SkipValue()
	case '[':
	default:
		if err := in.SkipValue(); err != nil {
			return err
		}
		return errWantArray
	}
	if _, err := in.ReadToken(); err != nil {
		return err
	}
	for in.PeekKind() != ']' {
		if len(*p) >= MaxQueryPage {
			return errPageTooLong
		}
		v, err := in.ReadValue() // an entry's bytes, decoded on their own (see object)
		if err != nil {
			return err
		}
		var zero T
		*p = append(*p, zero)
		if err := json.Unmarshal(v, &(*p)[len(*p)-1]); err != nil {
			return err
		}
	}
	_, err := in.ReadToken()
	return err
}

func decodeOKX[T any](method string, data []byte) ([]T, error) {
	var a okxAnswer[T]
	if err := decodeREST(data, &a, schema.VenueOKX, method); err != nil {
		return nil, err
	}
	switch {
	case !a.Code.ok:
		return nil, venueField(schema.VenueOKX, method, "code", errMissing)
	case a.Code.v != 0:
		return nil, &QueryError{Venue: schema.VenueOKX, Code: a.Code.v, Msg: a.Msg}
	}
	return a.Data, nil
}

// ParseOKXOrders reads the answer to "Get order details" (one order) or
// "Get order List" (/trade/orders-pending, any number), appending the
// orders to dst. A refusal is a [*QueryError] (51603: the order does not
// exist; 50011: rate limit); a missing field, an unknown instrument or a
// malformed value a [*ParseError] naming the field. The state maps as on
// the "orders" channel (live New, partially_filled, filled, canceled and
// mmp_canceled Canceled); sz is Qty unless the order is sized in the quote
// currency (tgtCcy quote_ccy, or a spot market buy without tgtCcy, as on
// the channel); avgPx × accFillSz is CumQuoteQty.
func ParseOKXOrders(data []byte, syms *Symbols, dst []QueryOrder) ([]QueryOrder, error) {
	const method = "trade/order"
	orders, err := decodeOKX[okxOrderMsg](method, data) // the "orders" channel's fields
	if err != nil {
		return dst, err
	}
	for i := range orders {
		q := &orders[i]
		o, err := orderHead(schema.VenueOKX, method, [...]string{"instId", "ordId", "state"}, syms, &q.InstID, &q.OrdID, &q.ClOrdID,
			&q.State, okxStatuses, &q.Side)
		if err != nil {
			return dst, err
		}
		x := &o.Execution
		t := okxOrderTypes[string(q.OrdType.bytes())]
		x.Type, x.TimeInForce = t.typ, t.tif
		qty := q.Sz.num
		if okxQuoteSized(q) {
			qty = num{}
		}
		if err := queryAmounts(schema.VenueOKX, method, x, q.Px.num, qty, q.AccFillSz.num, q.AvgPx.num); err != nil {
			return dst, err
		}
		if x.AvgPrice.Sign() > 0 {
			x.CumQuoteQty, _ = mulRounded(x.AvgPrice, x.CumFillQty)
		}
		if !q.CancelSourceReason.empty() {
			x.RejectReason = string(q.CancelSourceReason.bytes())
		}
		x.OrderCreated = q.CTime.v * 1e6
		x.TransactTime = either(q.UTime.v, q.CTime.v) * 1e6
		dst = append(dst, o)
	}
	return dst, nil
}

// ParseOKXFills reads the answer to "Get transaction details (last 3
// days)" (/trade/fills; newest first), appending the fills to dst, each
// with its billId as PageKey (the next page: after = the last one's). OKX
// signs fees as the account's gain; Fee is what was paid (the sign
// flipped), as on the "orders" channel. execType M is IsMaker. fillTime
// (or ts) is Time. Errors as [ParseOKXOrders]; a fill without a trade id,
// an order id, a positive price and quantity is a [*ParseError].
func ParseOKXFills(data []byte, syms *Symbols, dst []QueryFill) ([]QueryFill, error) {
	const method = "trade/fills"
	fills, err := decodeOKX[okxQueryFill](method, data)
	if err != nil {
		return dst, err
	}
	for i := range fills {
		q := &fills[i]
		var f QueryFill
		if f.Symbol, err = venueSymbol(schema.VenueOKX, method, "instId", syms, &q.InstID); err != nil {
			return dst, err
		}
		if err := checkFill(schema.VenueOKX, method, [...]string{"tradeId", "ordId", "fillPx", "fillSz"},
			&q.TradeID, &q.OrdID, &q.FillPx.num, &q.FillSz.num); err != nil {
			return dst, err
		}
		f.TradeID, f.OrderID, f.PageKey, f.FeeAsset = q.TradeID.v, q.OrdID.v, q.BillID.v, q.FeeCcy.v
		f.Price, f.Qty = q.FillPx.v, q.FillSz.v
		f.QuoteQty, _ = mulRounded(f.Price, f.Qty)
		f.Fee = q.Fee.v.Neg()
		f.IsMaker = string(q.ExecType.bytes()) == "M"
		f.Time = either(q.FillTime.v, q.TS.v) * 1e6
		dst = append(dst, f)
	}
	return dst, nil
}

// Helpers of the REST query decoders, OKX's, Bybit's and Coinbase's.

// orderHead reads what every venue's order answer has: the canonical
// symbol, the order's ids, its status (in the venue's words, statuses) and
// its side. names are the venue's fields of the symbol, the order id and
// the status, for the *ParseError.
func orderHead(venue schema.Venue, method string, names [3]string, syms *Symbols, sym *text, id, client *ident,
	status *text, statuses map[string]schema.OrderStatus, side *text) (QueryOrder, error) {
	var o QueryOrder
	x := &o.Execution
	var err error
	if o.Symbol, err = venueSymbol(venue, method, names[0], syms, sym); err != nil {
		return o, err
	}
	if !id.ok || id.v.IsZero() {
		return o, venueField(venue, method, names[1], errMissing)
	}
	x.VenueOrderID, x.ClientOrderID = id.v, client.v
	if x.Status = enum(statuses, status); x.Status == schema.StatusUnknown {
		return o, venueField(venue, method, names[2], ErrUnknownStatus)
	}
	x.Side, err = querySide(venue, method, side)
	return o, err
}

func venueField(venue schema.Venue, method, field string, err error) error {
	return &ParseError{Venue: venue, Stream: method, Field: field, Err: fmt.Errorf("%w: %w", ErrBadValue, err)}
}

func venueSymbol(venue schema.Venue, method, field string, syms *Symbols, t *text) (string, error) {
	if !t.ok || t.n == 0 {
		return "", venueField(venue, method, field, errMissing)
	}
	s, err := syms.Lookup(t.bytes())
	if err != nil {
		return "", &ParseError{Venue: venue, Stream: method, Field: field, Err: err}
	}
	return s, nil
}

// querySide reads a side; none is allowed (some answers omit it).
func querySide(venue schema.Venue, method string, t *text) (schema.Side, error) {
	if !t.ok || t.n == 0 {
		return schema.SideUnknown, nil
	}
	s, ok := sideWords[string(t.bytes())]
	if !ok {
		return schema.SideUnknown, venueField(venue, method, "side", errSide)
	}
	return s, nil
}

// queryAmounts sets an order's price, quantity, executed quantity and
// average price (each may be absent: zero) and its remaining quantity (0
// once x.Status, set before, is final); a negative one is a *ParseError.
func queryAmounts(venue schema.Venue, method string, x *schema.Execution, price, qty, cum, avg num) error {
	for _, f := range [...]struct {
		dst  *schema.Decimal
		name string
		n    num
	}{{&x.Price, "price", price}, {&x.Qty, "qty", qty}, {&x.CumFillQty, "executed qty", cum}, {&x.AvgPrice, "average price", avg}} {
		if f.n.ok && f.n.v.Sign() < 0 {
			return venueField(venue, method, f.name, errNegative)
		}
		*f.dst = f.n.v
	}
	if x.Qty.Sign() > 0 && x.CumFillQty.Cmp(x.Qty) <= 0 {
		x.RemainingQty, _ = x.Qty.Sub(x.CumFillQty)
	}
	endRemaining(x) // x.Status is set: nothing is open on an ended order
	return nil
}

// checkFill checks that a fill has its trade and order ids, and a positive
// price and quantity (names: the venue's fields, in that order).
func checkFill(venue schema.Venue, method string, names [4]string, trade, order *ident, price, qty *num) error {
	switch {
	case !trade.ok || trade.v.IsZero():
		return venueField(venue, method, names[0], errMissing)
	case !order.ok || order.v.IsZero():
		return venueField(venue, method, names[1], errMissing)
	case !price.ok || price.v.Sign() <= 0:
		return venueField(venue, method, names[2], errNotPositive)
	case !qty.ok || qty.v.Sign() <= 0:
		return venueField(venue, method, names[3], errNotPositive)
	}
	return nil
}
