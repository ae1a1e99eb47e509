package venuesim

import (
	"strconv"
	"sync"
	"time"

	"github.com/goccy/go-json/jsontext"
)

// Binance spot's WS-API rate limits as its answers report them (WebSocket
// API "Rate limits"; the limits of exchangeInfo's rateLimits): request
// weight per IP and minute, and orders per account in 10 seconds and a
// day. Each interval starts on its boundary (the minute, the 10 s of the
// minute, 00:00 UTC) and its count starts again at 0 there. The simulator
// reports them, and with Options.EnforceRateLimits refuses past them;
// Venue.FailQueries refuses for weight on demand.
const (
	weightLimit   = 6000
	orders10sCap  = 50
	ordersDayCap  = 160000
	connectWeight = 2 // "Connecting to WebSocket API costs 2 weight."
)

// methodWeight is a WS-API method's request weight, as each method's doc
// gives it; methods the simulator does not serve, and malformed
// requests, weigh 1 (Binance does not say).
func (v *Venue) methodWeight(req *apiRequest) int {
	switch req.Method {
	case "order.status":
		return 4
	case "openOrders.status":
		if _, ok := req.Params["symbol"]; !ok {
			return 80 // every symbol's
		}
		return 6
	case "myTrades":
		if _, ok := req.Params["orderId"]; ok {
			return 5
		}
		return 20
	case "myPreventedMatches":
		// 2 by preventedMatchId or for an invalid symbol, 20 by orderId
		// ("Account prevented matches", "Weight"); byName is fixed at Start.
		_, byOrder := req.Params["orderId"]
		if _, known := v.mkt.byName[param(req.Params, "symbol")]; byOrder && known {
			return 20
		}
		return 2
	case "userDataStream.subscribe", "userDataStream.subscribe.signature", "userDataStream.unsubscribe":
		return 2
	}
	return 1
}

// window is a count that starts again at 0 at each interval boundary.
type window struct {
	start, count int64
}

// add adds n at now (ms) within intervals of length ms, and returns the
// count. A now of the interval just before the window's is a straggler
// (its clock was read before the lock, by a goroutine that lost the race
// to one of the new interval) and counts in the window: put back to the
// old interval, the window would lose the new one's count at the next
// add. Further back is a clock stepped back: the window starts again.
func (w *window) add(now, length, n int64) int64 {
	if s := now - now%length; s != w.start && s != w.start-length {
		w.start, w.count = s, 0
	}
	w.count += n
	return w.count
}

// rateCounters are the venue's request-weight and order counts.
type rateCounters struct {
	mu                        sync.Mutex
	weight, orders10s, orders window
}

const (
	minuteMs = int64(time.Minute / time.Millisecond)
	tenSecMs = 10 * int64(time.Second/time.Millisecond)
	dayMs    = 24 * int64(time.Hour/time.Millisecond)
)

// spend adds a request's weight at now (ms) and returns the minute's
// count.
func (r *rateCounters) spend(now int64, n int) int64 {
	count, _ := r.spendIn(now, n)
	return count
}

// spendIn is spend that also returns the start (ms) of the minute the
// weight was counted in, for a refund.
func (r *rateCounters) spendIn(now int64, n int) (count, minute int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	count = r.weight.add(now, minuteMs, int64(n))
	return count, r.weight.start
}

// refund takes back n of weight counted in the minute starting at minute
// (ms, from spendIn), if that minute is still the one counted.
func (r *rateCounters) refund(minute int64, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.weight.start == minute {
		r.weight.count = max(r.weight.count-int64(n), 0)
	}
}

// orderRoom reports, at now (ms), whether another order fits the ORDERS
// limits, and if not when the interval that is full starts again.
func (r *rateCounters) orderRoom(now int64) (ok bool, retryAfter int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.orders.add(now, dayMs, 0) >= ordersDayCap {
		return false, now - now%dayMs + dayMs
	}
	if r.orders10s.add(now, tenSecMs, 0) >= orders10sCap {
		return false, now - now%tenSecMs + tenSecMs
	}
	return true, 0
}

// placed counts an accepted order at now (ms).
func (r *rateCounters) placed(now int64) {
	r.mu.Lock()
	r.orders10s.add(now, tenSecMs, 1)
	r.orders.add(now, dayMs, 1)
	r.mu.Unlock()
}

// firstFill takes an order whose first fill came at now (ms) off the
// unfilled order count of every ORDERS interval, the current ones, never
// below 0 (spot "Unfilled Order Count Rules": "When an order is filled for
// the first time (partially or fully), your unfilled order count is
// decremented by one order for all intervals of the ORDERS rate limit";
// "New order fills decrease your current unfilled order count regardless
// of when the orders were placed"; "once the unfilled order count is down
// to zero, additional fills will not decrease it further"). By one for a
// maker's first fill too: the rules' "may be decremented by more than
// one" names no number.
func (r *rateCounters) firstFill(now int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.orders10s.count = max(r.orders10s.add(now, tenSecMs, 0)-1, 0)
	r.orders.count = max(r.orders.add(now, dayMs, 0)-1, 0)
}

// appendLimits appends the rateLimits array of an answer: the ORDERS
// limits first for an order placement, then REQUEST_WEIGHT, in the order
// Binance's examples list them.
func (r *rateCounters) appendLimits(b []byte, orders bool, now int64) []byte {
	r.mu.Lock()
	weight := r.weight.add(now, minuteMs, 0)
	o10, oDay := r.orders10s.add(now, tenSecMs, 0), r.orders.add(now, dayMs, 0)
	r.mu.Unlock()
	entry := func(b []byte, typ, interval string, num, limit, count int64) []byte {
		b = append(b, `{"rateLimitType":"`...)
		b = append(append(b, typ...), `","interval":"`...)
		b = append(append(b, interval...), `","intervalNum":`...)
		b = append(strconv.AppendInt(b, num, 10), `,"limit":`...)
		b = append(strconv.AppendInt(b, limit, 10), `,"count":`...)
		return append(strconv.AppendInt(b, count, 10), '}')
	}
	b = append(b, '[')
	if orders {
		b = entry(b, "ORDERS", "SECOND", 10, orders10sCap, o10)
		b = entry(append(b, ','), "ORDERS", "DAY", 1, ordersDayCap, oDay)
		b = append(b, ',')
	}
	b = entry(b, "REQUEST_WEIGHT", "MINUTE", 1, weightLimit, weight)
	return append(b, ']')
}

// wantLimits reads returnRateLimits: the request's parameter when it is
// a boolean (or "true"/"false"), else the connection's default (its URL's
// returnRateLimits=false turns them off).
func (c *conn) wantLimits(req *apiRequest) bool {
	switch param(req.Params, "returnRateLimits") {
	case "true":
		return true
	case "false":
		return false
	}
	return !c.noLimits
}

// answer sends a WS-API answer (an object of apiResult or apiError),
// with the rateLimits member when the request wants it.
func (c *conn) answer(req apiRequest, msg []byte) {
	if req.sink != nil {
		*req.sink = msg
		return
	}
	if req.limits && len(msg) > 0 && msg[len(msg)-1] == '}' {
		b := make([]byte, 0, len(msg)+200)
		b = append(append(b, msg[:len(msg)-1]...), `,"rateLimits":`...)
		b = c.v.rates.appendLimits(b, req.Method == "order.place" || req.Method == "order.cancelReplace", c.v.now().UnixMilli())
		msg = append(b, '}')
	}
	c.reply(msg)
}

// rateLimited is the answer to a request refused for request weight
// (WebSocket API "IP limits"): status 429, code -1003, and in error.data
// the server's time and when to retry (the next minute, when the weight
// counts from 0 again), both Unix ms.
func rateLimited(id jsontext.Value, now int64) []byte {
	return refused(id, -1003, weightMsg, now, now-now%minuteMs+minuteMs)
}

// weightMsg is Binance's -1003 text past REQUEST_WEIGHT ("Error codes":
// "Too much request weight used; current limit is %s request weight per
// %s. Please use WebSocket Streams for live updates to avoid polling the
// API.").
const weightMsg = "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."

// tooManyOrders is the answer to an order.place past the ORDERS limits
// (Binance "Error codes" -1015 "Too many new orders; current limit is %s
// orders per %s."; spot "Unfilled Order Count"), in rateLimited's shape:
// status 429, error.data with the time the full interval starts again.
func tooManyOrders(id jsontext.Value, now, retryAfter int64) []byte {
	msg := "Too many new orders; current limit is 50 orders per 10 SECOND."
	if retryAfter-now > tenSecMs {
		msg = "Too many new orders; current limit is 160000 orders per DAY."
	}
	return refused(id, -1015, msg, now, retryAfter)
}

func refused(id jsontext.Value, code int, msg string, now, retryAfter int64) []byte {
	return refusedStatus(id, 429, code, msg, now, retryAfter)
}

// refusedStatus is a WS-API refusal with error.data's serverTime and
// retryAfter (Unix ms): status 429 for a limit, 418 for a banned IP.
func refusedStatus(id jsontext.Value, status, code int, msg string, now, retryAfter int64) []byte {
	type data struct {
		ServerTime int64 `json:"serverTime"`
		RetryAfter int64 `json:"retryAfter"`
	}
	type errorBody struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
		Data data   `json:"data"`
	}
	return marshal(&struct {
		ID     jsontext.Value `json:"id"`
		Status int            `json:"status"`
		Error  errorBody      `json:"error"`
	}{nullIfEmpty(id), status, errorBody{code, msg, data{now, retryAfter}}})
}
