package normalize

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/meltica/meltica/schema"
)

// Bybit v5 REST paths of the order queries (Bybit v5, "Trade → Get Open &
// Closed Orders" (/order/realtime: open orders, and the latest 500 that
// ended), "Trade → Get Order History" (/order/history: ended orders the
// realtime list no longer has), "Position → Get Trade History"
// (/execution/list)). Each takes category (the session's: spot) and
// returns {"retCode":0,"retMsg":"OK","result":{"category","list",
// "nextPageCursor"}}; a next page is asked for with cursor =
// nextPageCursor, until it is "".
const (
	BybitPathOrderRealtime = "/v5/order/realtime"
	BybitPathOrderHistory  = "/v5/order/history"
	BybitPathExecutions    = "/v5/execution/list"
	// BybitOrdersLimit and BybitExecutionsLimit are the most orders
	// (limit [1, 50]) and executions ([1, 100]) one page carries.
	BybitOrdersLimit     = 50
	BybitExecutionsLimit = 100
)

// SignBybitREST returns the headers of a signed Bybit v5 GET request
// (Bybit v5, "Integration Guidance → Authentication"): X-BAPI-API-KEY,
// X-BAPI-TIMESTAMP (the venue's time, Unix ms), X-BAPI-RECV-WINDOW (ms)
// and X-BAPI-SIGN, the hex HMAC-SHA256 under the secret of timestamp +
// apiKey + recvWindow + queryString, queryString exactly as sent. Bybit
// refuses a request outside server time − recvWindow ≤ timestamp < server
// time + 1 s (10002).
func SignBybitREST(creds *Credentials, now time.Time, recvWindow time.Duration, queryString string) (map[string]string, error) {
	if creds == nil || creds.signer == nil || creds.apiKey == "" {
		return nil, fmt.Errorf("%w: Bybit requests need credentials with a key and a signer", ErrBadValue)
	}
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	rw := strconv.FormatInt(recvWindow.Milliseconds(), 10)
	sig, err := creds.signer.AppendSignature(nil, []byte(ts+creds.apiKey+rw+queryString))
	if err != nil {
		return nil, fmt.Errorf("normalize: signing a Bybit request: %w", err)
	}
	return map[string]string{"X-BAPI-API-KEY": creds.apiKey, "X-BAPI-TIMESTAMP": ts, "X-BAPI-RECV-WINDOW": rw, "X-BAPI-SIGN": string(sig)}, nil
}

// BybitQuery returns the query string of a Bybit order query: category,
// then the other parameters (key, value pairs; empty values left out), in
// the order given — the string the signature is made over. A value made
// of URL-safe bytes (letters, digits, "-", "_", ".", "~", "%") is sent as
// it is: Bybit's nextPageCursor comes percent-encoded already and goes
// back as it came (Bybit v5, "Get Open & Closed Orders": cursor); any
// other value is escaped.
func BybitQuery(category string, kv ...string) string {
	q := "category=" + bybitValue(category)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q += "&" + kv[i] + "=" + bybitValue(kv[i+1])
		}
	}
	return q
}

func bybitValue(v string) string {
	for _, c := range []byte(v) {
		safe := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '%'
		if !safe {
			return url.QueryEscape(v)
		}
	}
	return v
}

// bybitQueryExec is an execution of /execution/list.
type bybitQueryExec struct {
	Symbol      text       `json:"symbol"`
	OrderID     ident      `json:"orderId"`
	ExecID      ident      `json:"execId"`
	ExecPrice   optNum     `json:"execPrice"`
	ExecQty     optNum     `json:"execQty"`
	ExecValue   optNum     `json:"execValue"`
	ExecFee     optNum     `json:"execFee"`
	FeeCurrency ident      `json:"feeCurrency"`
	ExecType    text       `json:"execType"`
	ExecTime    optInteger `json:"execTime"`
	OrderQty    optNum     `json:"orderQty"`
	LeavesQty   optNum     `json:"leavesQty"`
	IsMaker     flag       `json:"isMaker"`
	OrderType   text       `json:"orderType"`
	Side        text       `json:"side"`
}

// bybitQueryOrder is an order of /order/realtime and /order/history: the
// "order" topic's fields, and marketUnit.
type bybitQueryOrder struct {
	bybitOrderMsg
	MarketUnit text `json:"marketUnit"`
}

// bybitQuoteSized reports whether a spot order's qty is in the quote coin:
// a market order with marketUnit quoteCoin, or without one a market buy
// (Bybit v5 "Place Order": marketUnit, quoteCoin by default for a spot
// market buy).
func bybitQuoteSized(orderType, side, unit *text) bool {
	if string(orderType.bytes()) != "Market" {
		return false
	}
	switch string(unit.bytes()) {
	case "quoteCoin":
		return true
	case "baseCoin":
		return false
	}
	return sideWords[string(side.bytes())] == schema.SideBuy
}

type bybitAnswer[T any] struct {
	RetCode integer `json:"retCode"`
	RetMsg  string  `json:"retMsg"`
	Result  *struct {
		List           page[T] `json:"list"`
		NextPageCursor string  `json:"nextPageCursor"`
	} `json:"result"`
}

func decodeBybit[T any](method string, data []byte) ([]T, string, error) {
	var a bybitAnswer[T]
	if err := decodeREST(data, &a, schema.VenueBybit, method); err != nil {
		return nil, "", err
	}
	switch {
	case !a.RetCode.ok:
		return nil, "", venueField(schema.VenueBybit, method, "retCode", errMissing)
	case a.RetCode.v != 0:
		return nil, "", &QueryError{Venue: schema.VenueBybit, Code: a.RetCode.v, Msg: a.RetMsg}
	case a.Result == nil:
		return nil, "", venueField(schema.VenueBybit, method, "result", errMissing)
	}
	return a.Result.List, a.Result.NextPageCursor, nil
}

// ParseBybitOrders reads the answer to /order/realtime or /order/history,
// appending its orders to dst, and returns the next page's cursor ("" for
// the last page). A refusal is a [*QueryError] (10006 rate limit, 10002
// timestamp outside recv_window, …); a missing field, an unknown symbol or
// a malformed value a [*ParseError] naming the field. orderStatus maps as
// on the "order" topic (Bybit v5 "Enums → orderStatus"). A market order
// sized in the quote coin (marketUnit quoteCoin; without one, a market
// buy: Bybit's default) has no base Qty (zero), its qty being a quote
// amount, as [ParseOKXOrders] does with tgtCcy quote_ccy.
func ParseBybitOrders(data []byte, syms *Symbols, dst []QueryOrder) ([]QueryOrder, string, error) {
	const method = "order/realtime"
	orders, next, err := decodeBybit[bybitQueryOrder](method, data)
	if err != nil {
		return dst, "", err
	}
	for i := range orders {
		q := &orders[i]
		o, err := orderHead(schema.VenueBybit, method, [...]string{"symbol", "orderId", "orderStatus"}, syms, &q.Symbol, &q.OrderID,
			&q.OrderLinkID, &q.OrderStatus, bybitStatuses, &q.Side)
		if err != nil {
			return dst, "", err
		}
		x := &o.Execution
		x.Type, x.TimeInForce = bybitTypeTIF(&q.OrderType, &q.StopOrder, &q.TimeInForce)
		x.Type = q.tpslKind(x.Type, x.Side)
		qty := q.Qty.num
		if bybitQuoteSized(&q.OrderType, &q.Side, &q.MarketUnit) {
			qty = num{} // a quote amount: no base quantity (as OKX's tgtCcy quote_ccy)
		}
		if err := queryAmounts(schema.VenueBybit, method, x, q.Price.num, qty, q.CumExecQty.num, q.AvgPrice.num); err != nil {
			return dst, "", err
		}
		if q.CumExecValue.v.Sign() < 0 {
			return dst, "", venueField(schema.VenueBybit, method, "cumExecValue", errNegative)
		}
		x.CumQuoteQty = q.CumExecValue.v
		if !q.RejectReason.empty() && string(q.RejectReason.bytes()) != "EC_NoError" {
			x.RejectReason = string(q.RejectReason.bytes())
		}
		x.OrderCreated = q.CreatedTime.v * 1e6
		x.TransactTime = either(q.UpdatedTime.v, q.CreatedTime.v) * 1e6
		dst = append(dst, o)
	}
	return dst, next, nil
}

// ParseBybitExecutions reads the answer to /execution/list (newest first),
// appending its fills to dst, and returns the next page's cursor. Only
// fills of an order count (execType Trade, AdlTrade, BustTrade,
// BlockTrade, MovePosition, Delivery, Settle, FutureSpread, as on the
// "execution" topic); Funding and others are left out. execId is TradeID
// (a UUID: no order among them), execValue QuoteQty, execFee Fee (Bybit's
// sign: paid is positive) in feeCurrency, isMaker IsMaker, execTime Time,
// and orderQty − leavesQty CumFillQty, which orders an order's fills of
// the same millisecond (none for a market buy, whose orderQty may be a
// quote amount). Errors as [ParseBybitOrders].
func ParseBybitExecutions(data []byte, syms *Symbols, dst []QueryFill) ([]QueryFill, string, error) {
	const method = "execution/list"
	execs, next, err := decodeBybit[bybitQueryExec](method, data)
	if err != nil {
		return dst, "", err
	}
	for i := range execs {
		q := &execs[i]
		if bybitExecTypes[string(q.ExecType.bytes())] != schema.ExecTrade {
			continue
		}
		var f QueryFill
		if f.Symbol, err = venueSymbol(schema.VenueBybit, method, "symbol", syms, &q.Symbol); err != nil {
			return dst, "", err
		}
		if err := checkFill(schema.VenueBybit, method, [...]string{"execId", "orderId", "execPrice", "execQty"},
			&q.ExecID, &q.OrderID, &q.ExecPrice.num, &q.ExecQty.num); err != nil {
			return dst, "", err
		}
		f.TradeID, f.OrderID, f.FeeAsset = q.ExecID.v, q.OrderID.v, q.FeeCurrency.v
		f.Price, f.Qty, f.Fee, f.IsMaker = q.ExecPrice.v, q.ExecQty.v, q.ExecFee.v, q.IsMaker.v
		f.QuoteQty = q.ExecValue.v
		if !q.ExecValue.ok || f.QuoteQty.Sign() <= 0 {
			f.QuoteQty, _ = mulRounded(f.Price, f.Qty)
		}
		// orderQty − leavesQty is in the base coin unless the order was
		// sized in the quote coin, which a market buy's execution does not
		// tell (no marketUnit): none for those.
		quote := string(q.OrderType.bytes()) == "Market" && sideWords[string(q.Side.bytes())] == schema.SideBuy
		if !quote && q.OrderQty.ok && q.LeavesQty.ok && q.LeavesQty.v.Sign() >= 0 && q.LeavesQty.v.Cmp(q.OrderQty.v) <= 0 {
			f.CumFillQty, _ = q.OrderQty.v.Sub(q.LeavesQty.v)
		}
		f.Time = q.ExecTime.v * 1e6
		dst = append(dst, f)
	}
	return dst, next, nil
}
