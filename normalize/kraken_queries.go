package normalize

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/schema"
)

// Kraken Spot REST paths of the order queries (Kraken Spot REST, "Account
// Data → Query Orders Info", "Query Trades Info", "Get Open Orders", "Get
// Closed Orders"), on https://api.kraken.com. Each is a POST whose form
// body carries the nonce, signed as [KrakenSign] says, and answers
// {"error":[…],"result":…} with HTTP 200 whether it succeeded or not.
const (
	KrakenPathQueryOrders   = "/0/private/QueryOrders"
	KrakenPathQueryTrades   = "/0/private/QueryTrades"
	KrakenPathOpenOrders    = "/0/private/OpenOrders"
	KrakenPathClosedOrders  = "/0/private/ClosedOrders"
	KrakenPathTradesHistory = "/0/private/TradesHistory"
	// KrakenTradesHistoryPage is how many trades a TradesHistory page
	// holds (50, newest first; the next page from ofs = the trades read).
	KrakenTradesHistoryPage = 50
	// KrakenQueryTradesMax is the most trade txids one QueryTrades takes
	// ("txid: comma delimited list of transaction IDs", 20 maximum).
	KrakenQueryTradesMax = 20
	// KrakenMaxOrderTrades bounds the trade txids one order's answer may
	// list: more is a [*ParseError].
	KrakenMaxOrderTrades = 10000
)

// Kraken's errors are strings ("EAPI:Rate limit exceeded"), not numbers. A
// refusal of a Kraken query is a [*QueryError] whose Code is one of these,
// read from the first error string that names one (Kraken Spot REST,
// "Errors" and "Rate Limits"), or 0 for any other; Msg is every error
// string, joined by "; ".
const (
	// KrakenCodeRateLimit: "EAPI:Rate limit exceeded", "EGeneral:Too many
	// requests", "EService:Throttled…", "EGeneral:Temporary lockout".
	KrakenCodeRateLimit int64 = 1 + iota
	// KrakenCodeInvalidNonce: "EAPI:Invalid nonce" (a nonce not above the
	// key's last one: another caller's request came first).
	KrakenCodeInvalidNonce
	// KrakenCodeUnknownOrder: "EOrder:Unknown order", "EOrder:Invalid
	// order".
	KrakenCodeUnknownOrder
	// KrakenCodeUnavailable: "EService:Unavailable", "EService:Busy",
	// "EService:Deadline elapsed", "EGeneral:Internal error".
	KrakenCodeUnavailable
)

var krakenErrorCodes = [...]struct {
	prefix string
	code   int64
}{
	{"EAPI:Rate limit exceeded", KrakenCodeRateLimit},
	{"EGeneral:Too many requests", KrakenCodeRateLimit},
	{"EService:Throttled", KrakenCodeRateLimit},
	{"EGeneral:Temporary lockout", KrakenCodeRateLimit},
	{"EAPI:Invalid nonce", KrakenCodeInvalidNonce},
	{"EOrder:Unknown order", KrakenCodeUnknownOrder},
	{"EOrder:Invalid order", KrakenCodeUnknownOrder},
	{"EService:Unavailable", KrakenCodeUnavailable},
	{"EService:Busy", KrakenCodeUnavailable},
	{"EService:Deadline elapsed", KrakenCodeUnavailable},
	{"EGeneral:Internal error", KrakenCodeUnavailable},
}

// krakenRefusal is the QueryError of Kraken's error strings.
func krakenRefusal(errs []string) *QueryError {
	e := &QueryError{Venue: schema.VenueKraken, Msg: strings.Join(errs, "; ")}
	for _, s := range errs {
		for _, k := range krakenErrorCodes {
			if strings.HasPrefix(s, k.prefix) {
				e.Code = k.code
				return e
			}
		}
	}
	return e
}

// KrakenPrivateRequest returns the form body of a private Kraken REST POST
// to path — params with nonce added — and its headers: Content-Type
// application/x-www-form-urlencoded, API-Key, and API-Sign made by
// [KrakenSign] over path, the nonce and the body (Kraken "Spot REST
// Authentication"). nonce must be above every earlier one of the key.
// params is not changed.
func KrakenPrivateRequest(apiKey, secretB64, path string, nonce uint64, params url.Values) (body string, headers map[string]string, err error) {
	if apiKey == "" {
		return "", nil, fmt.Errorf("%w: Kraken requests need an API key", ErrBadValue)
	}
	form := make(url.Values, len(params)+1)
	for k, v := range params {
		form[k] = v
	}
	n := strconv.FormatUint(nonce, 10)
	form.Set("nonce", n)
	body = form.Encode()
	sig, err := KrakenSign(secretB64, path, n, body)
	if err != nil {
		return "", nil, err
	}
	return body, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "API-Key": apiKey, "API-Sign": sig}, nil
}

// KrakenOrder is an order as a Kraken order query answers it, and the
// txids of its trades (QueryOrders, OpenOrders and ClosedOrders with
// trades=true; "if … data available"), as listed.
type KrakenOrder struct {
	QueryOrder
	Trades []string
}

// krDescrPrice is a price of an order's description (descr.price,
// descr.price2): a decimal, or for a trailing stop an offset Kraken may
// write as a percentage ("5%"). Kraken "Add Order": a trailing stop's
// price must be relative ("+" prefix, "%" suffix for a percentage: the
// distance from the peak price), and a trailing-stop-limit's limit is an
// offset from the trigger price — no price either.
type krDescrPrice struct {
	optNum
	pct bool // a percentage: an offset, not read as a number
}

func (p *krDescrPrice) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	if w := unquoted(v); v[0] == '"' && len(w) > 0 && w[len(w)-1] == '%' {
		p.sent, p.pct = true, true
		return nil
	}
	return p.set(v)
}

// krOrderInfo is an order of QueryOrders, OpenOrders and ClosedOrders
// (Kraken's "Order info"): amounts are strings, times Unix seconds with
// decimals.
type krOrderInfo struct {
	ClOrdID ident  `json:"cl_ord_id"`
	Status  text   `json:"status"`
	OpenTM  optNum `json:"opentm"`
	CloseTM optNum `json:"closetm"`
	Descr   struct {
		Pair      text         `json:"pair"`
		Type      text         `json:"type"`
		OrderType text         `json:"ordertype"`
		Price     krDescrPrice `json:"price"`
		Price2    krDescrPrice `json:"price2"`
	} `json:"descr"`
	Vol     optNum   `json:"vol"`
	VolExec optNum   `json:"vol_exec"`
	Cost    optNum   `json:"cost"`
	Price   optNum   `json:"price"`
	OFlags  text     `json:"oflags"`
	Reason  string   `json:"reason"`
	Trades  []string `json:"trades"`
}

// krTradeInfo is a trade of QueryTrades (Kraken's "Trade info").
type krTradeInfo struct {
	OrderTxID ident  `json:"ordertxid"`
	Time      optNum `json:"time"`
	Price     optNum `json:"price"`
	Cost      optNum `json:"cost"`
	Fee       optNum `json:"fee"`
	Vol       optNum `json:"vol"`
	TradeID   ident  `json:"trade_id"`
	Maker     flag   `json:"maker"`
}

// krMember is one member of a Kraken result object keyed by txid.
type krMember[T any] struct {
	txid string
	v    T
}

// krMap is a Kraken result object keyed by txid, read member by member in
// the order sent and refused past MaxQueryPage members (null is empty).
type krMap[T any] []krMember[T]

func (m *krMap[T]) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	switch in.PeekKind() {
	case 'n':
		return in.SkipValue()
	case '{':
	default:
		if err := in.SkipValue(); err != nil {
			return err
		}
		return wrapBad("want an object")
	}
	if _, err := in.ReadToken(); err != nil {
		return err
	}
	for in.PeekKind() != '}' {
		if len(*m) >= MaxQueryPage {
			return errPageTooLong
		}
		name, err := in.ReadToken()
		if err != nil {
			return err
		}
		txid := name.String()    // before the next read voids the token
		v, err := in.ReadValue() // the member's bytes, decoded on their own (see page)
		if err != nil {
			return err
		}
		*m = append(*m, krMember[T]{txid: txid})
		if err := json.Unmarshal(v, &(*m)[len(*m)-1].v); err != nil {
			return err
		}
	}
	_, err := in.ReadToken()
	return err
}

// krAnswer is Kraken's REST envelope.
type krAnswer[T any] struct {
	Error  []string `json:"error"`
	Result *T       `json:"result"`
}

func decodeKraken[T any](method string, data []byte) (*T, error) {
	var a krAnswer[T]
	if err := decodeREST(data, &a, schema.VenueKraken, method); err != nil {
		return nil, err
	}
	switch {
	case len(a.Error) > 0:
		return nil, krakenRefusal(a.Error)
	case a.Result == nil:
		return nil, venueField(schema.VenueKraken, method, "result", errMissing)
	}
	return a.Result, nil
}

// ParseKrakenQueryOrders reads the answer to QueryOrders — {"error":[],
// "result":{txid: order info, …}} — appending its orders to dst, each
// with the canonical symbol given (the caller asked about its orders; the
// answer names the pair in REST's spelling, "XBTUSD"). A non-empty
// "error" is a [*QueryError] (Code: KrakenCode…); a missing field, an
// unknown status or a malformed value a [*ParseError] naming the field.
//
//   - status: pending PendingNew; open New, or PartiallyFilled once
//     vol_exec > 0; closed Filled; canceled Canceled; expired Expired.
//   - descr.type Side; descr.ordertype Type (as on the executions
//     channel); descr.price the limit Price — for stop-loss-limit and
//     take-profit-limit the trigger (StopPrice), price2 the limit;
//     stop-loss and take-profit the trigger; trailing-stop and
//     trailing-stop-limit neither: their prices are offsets (from the
//     peak, from the trigger), Price and StopPrice stay zero. A
//     percentage ("5%") elsewhere is a *ParseError naming descr.price.
//   - vol Qty (none when oflags has viqc: a quote amount), vol_exec
//     CumFillQty, cost CumQuoteQty, price AvgPrice; cl_ord_id
//     ClientOrderID; opentm OrderCreated; closetm (else opentm)
//     TransactTime; reason RejectReason; trades Trades.
func ParseKrakenQueryOrders(data []byte, symbol string, dst []KrakenOrder) ([]KrakenOrder, error) {
	const method = "QueryOrders"
	r, err := decodeKraken[krMap[krOrderInfo]](method, data)
	if err != nil {
		return dst, err
	}
	return krakenOrders(method, *r, symbol, dst)
}

// ParseKrakenOpenOrders reads the answer to OpenOrders ({"result":{"open":
// {txid: order info}}}) as [ParseKrakenQueryOrders] reads QueryOrders'.
func ParseKrakenOpenOrders(data []byte, symbol string, dst []KrakenOrder) ([]KrakenOrder, error) {
	const method = "OpenOrders"
	r, err := decodeKraken[struct {
		Open krMap[krOrderInfo] `json:"open"`
	}](method, data)
	if err != nil {
		return dst, err
	}
	return krakenOrders(method, r.Open, symbol, dst)
}

// ParseKrakenClosedOrders reads the answer to ClosedOrders ({"result":
// {"closed":{txid: order info},"count":n}}; 50 a page, newest first) as
// [ParseKrakenQueryOrders] reads QueryOrders'.
func ParseKrakenClosedOrders(data []byte, symbol string, dst []KrakenOrder) ([]KrakenOrder, error) {
	const method = "ClosedOrders"
	r, err := decodeKraken[struct {
		Closed krMap[krOrderInfo] `json:"closed"`
	}](method, data)
	if err != nil {
		return dst, err
	}
	return krakenOrders(method, r.Closed, symbol, dst)
}

// krakenRESTStatuses are REST's order statuses ("Order info": status).
var krakenRESTStatuses = map[string]schema.OrderStatus{
	"pending": schema.StatusPendingNew, "open": schema.StatusNew, "closed": schema.StatusFilled,
	"canceled": schema.StatusCanceled, "expired": schema.StatusExpired,
}

func krakenOrders(method string, m krMap[krOrderInfo], symbol string, dst []KrakenOrder) ([]KrakenOrder, error) {
	for i := range m {
		q := &m[i].v
		var o KrakenOrder
		x := &o.Execution
		o.Symbol = symbol
		if err := x.VenueOrderID.SetBytes([]byte(m[i].txid)); err != nil || x.VenueOrderID.IsZero() {
			return dst, venueField(schema.VenueKraken, method, "txid", errMissing)
		}
		x.ClientOrderID = q.ClOrdID.v
		if x.Status = enum(krakenRESTStatuses, &q.Status); x.Status == schema.StatusUnknown {
			return dst, venueField(schema.VenueKraken, method, "status", ErrUnknownStatus)
		}
		var err error
		if x.Side, err = querySide(schema.VenueKraken, method, &q.Descr.Type); err != nil {
			return dst, err
		}
		x.Type = enum(krakenOrderTypes, &q.Descr.OrderType)
		price, stop, offsets := q.Descr.Price.num, num{}, false
		switch string(q.Descr.OrderType.bytes()) {
		case "stop-loss-limit", "take-profit-limit":
			price, stop = q.Descr.Price2.num, q.Descr.Price.num
		case "stop-loss", "take-profit":
			price, stop = num{}, q.Descr.Price.num
		case "trailing-stop", "trailing-stop-limit":
			price, offsets = num{}, true // no prices (krDescrPrice)
		}
		if !offsets && (q.Descr.Price.pct || q.Descr.Price2.pct) {
			return dst, venueField(schema.VenueKraken, method, "descr.price", errWantNumber)
		}
		if stop.ok && stop.v.Sign() < 0 {
			return dst, venueField(schema.VenueKraken, method, "descr.price", errNegative)
		}
		x.StopPrice = stop.v
		qty := q.Vol.num
		if strings.Contains(string(q.OFlags.bytes()), "viqc") {
			qty = num{} // a quote amount: no base quantity
		}
		if err := queryAmounts(schema.VenueKraken, method, x, price, qty, q.VolExec.num, q.Price.num); err != nil {
			return dst, err
		}
		if q.Cost.v.Sign() < 0 {
			return dst, venueField(schema.VenueKraken, method, "cost", errNegative)
		}
		x.CumQuoteQty = q.Cost.v
		if x.Status == schema.StatusNew && x.CumFillQty.Sign() > 0 {
			x.Status = schema.StatusPartiallyFilled
		}
		x.RejectReason = q.Reason
		open, ok1 := krakenTime(q.OpenTM)
		closed, ok2 := krakenTime(q.CloseTM)
		if !ok1 || !ok2 {
			return dst, venueField(schema.VenueKraken, method, "opentm", wrapBad("want Unix seconds"))
		}
		x.OrderCreated, x.TransactTime = open, either(closed, open)
		if len(q.Trades) > KrakenMaxOrderTrades {
			return dst, venueField(schema.VenueKraken, method, "trades", errPageTooLong)
		}
		o.Trades = q.Trades
		dst = append(dst, o)
	}
	return dst, nil
}

// krakenTime is Unix seconds with decimals in ns; absent is 0.
func krakenTime(t optNum) (int64, bool) {
	if !t.ok {
		return 0, true
	}
	return secondsToNanos(t.v)
}

// ParseKrakenQueryTrades reads the answer to QueryTrades — {"error":[],
// "result":{trade txid: trade info, …}} — appending its fills to dst, each
// with the canonical symbol given, feeAsset as FeeAsset (Kraken's "fee:
// total fee (quote currency)"), and the txid as PageKey. trade_id (an
// integer, unique per pair: the executions channel's trade_id) is TradeID,
// ordertxid OrderID, price Price, vol Qty, cost QuoteQty (else price ×
// vol), fee Fee (paid is positive), maker IsMaker, time (Unix seconds
// with decimals) Time. Errors as [ParseKrakenQueryOrders]; a trade without
// a trade_id, an ordertxid, a positive price and vol is a [*ParseError].
func ParseKrakenQueryTrades(data []byte, symbol string, feeAsset schema.ID, dst []QueryFill) ([]QueryFill, error) {
	const method = "QueryTrades"
	r, err := decodeKraken[krMap[krTradeInfo]](method, data)
	if err != nil {
		return dst, err
	}
	return krakenFills(method, *r, symbol, feeAsset, dst)
}

// ParseKrakenTradesHistory reads the answer to TradesHistory — {"error":
// [],"result":{"trades":{trade txid: trade info, …},"count":n}}, the
// account's trades of every pair, newest first — as
// [ParseKrakenQueryTrades] reads QueryTrades', and returns count, the
// trades the query matches in all.
func ParseKrakenTradesHistory(data []byte, symbol string, feeAsset schema.ID, dst []QueryFill) ([]QueryFill, int, error) {
	const method = "TradesHistory"
	r, err := decodeKraken[struct {
		Trades krMap[krTradeInfo] `json:"trades"`
		Count  integer            `json:"count"`
	}](method, data)
	if err != nil {
		return dst, 0, err
	}
	if r.Count.v < 0 {
		return dst, 0, venueField(schema.VenueKraken, method, "count", errNegative)
	}
	dst, err = krakenFills(method, r.Trades, symbol, feeAsset, dst)
	return dst, int(min(r.Count.v, 1<<31-1)), err
}

func krakenFills(method string, m krMap[krTradeInfo], symbol string, feeAsset schema.ID, dst []QueryFill) ([]QueryFill, error) {
	for i := range m {
		q := &m[i].v
		if err := checkFill(schema.VenueKraken, method, [...]string{"trade_id", "ordertxid", "price", "vol"},
			&q.TradeID, &q.OrderTxID, &q.Price.num, &q.Vol.num); err != nil {
			return dst, err
		}
		f := QueryFill{Symbol: symbol, TradeID: q.TradeID.v, OrderID: q.OrderTxID.v, Price: q.Price.v, Qty: q.Vol.v,
			Fee: q.Fee.v, FeeAsset: feeAsset, IsMaker: q.Maker.v}
		if err := f.PageKey.SetBytes([]byte(m[i].txid)); err != nil {
			return dst, venueField(schema.VenueKraken, method, "txid", err)
		}
		f.QuoteQty = q.Cost.v
		if !q.Cost.ok || f.QuoteQty.Sign() <= 0 {
			f.QuoteQty, _ = mulRounded(f.Price, f.Qty)
		}
		var ok bool
		if f.Time, ok = krakenTime(q.Time); !ok {
			return dst, venueField(schema.VenueKraken, method, "time", wrapBad("want Unix seconds"))
		}
		dst = append(dst, f)
	}
	return dst, nil
}
