package venuesim

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Binance's recvWindow bounds (WS-API "Timing security"): 5000 ms unless
// the request says otherwise, at most 60000 ms.
const (
	defaultRecvWindow = 5000
	maxRecvWindow     = 60000
)

// UserDataSubscription is one userDataStream.subscribe(.signature) request
// the WS-API received.
type UserDataSubscription struct {
	Conn      uint64 // the venue's connection number, from 1
	Timestamp int64  // the request's timestamp, Unix ms (0 when unsigned)
	Accepted  bool
	Code      int // the error code when refused
}

// userDataLog records the user-data subscriptions, for tests.
type userDataLog struct {
	mu          sync.Mutex
	subs        []UserDataSubscription
	placeTS     []int64 // order.place timestamps, in arrival order
	subsHeld    holder  // HoldUserData: acceptances wait
	queriesHeld holder  // HoldQueries: queries wait
}

// holder holds functions while on and runs them, in order, when turned
// off (guarded by userDataLog.mu).
type holder struct {
	on   bool
	held []func()
}

// run runs f now, or holds it.
func (l *userDataLog) run(h *holder, f func()) {
	l.mu.Lock()
	if h.on {
		h.held = append(h.held, f)
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	f()
}

// set turns h on or off (running what it held) and returns how many
// functions it held.
func (l *userDataLog) set(h *holder, on bool) int {
	l.mu.Lock()
	h.on = on
	held := h.held
	if !on {
		h.held = nil
	}
	l.mu.Unlock()
	if !on {
		for _, f := range held {
			f()
		}
	}
	return len(held)
}

// waiting is how many functions h holds.
func (l *userDataLog) waiting(h *holder) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(h.held)
}

// UserDataSubscriptions returns every user-data subscription request the
// WS-API received, in order.
func (v *Venue) UserDataSubscriptions() []UserDataSubscription {
	v.uds.mu.Lock()
	defer v.uds.mu.Unlock()
	return append([]UserDataSubscription(nil), v.uds.subs...)
}

// PlaceTimestamps returns the timestamp parameter (Unix ms; 0 when
// missing or unreadable) of every order.place request the WS-API
// received, in the order it read them: a test of how a client stamps
// its requests (Binance measures recvWindow from that timestamp to its
// receipt).
func (v *Venue) PlaceTimestamps() []int64 {
	v.uds.mu.Lock()
	defer v.uds.mu.Unlock()
	return append([]int64(nil), v.uds.placeTS...)
}

// apiConns returns the open WS-API connections.
func (v *Venue) apiConns() []*conn {
	v.mu.Lock()
	defer v.mu.Unlock()
	var targets []*conn
	for c := range v.conns {
		if c.api {
			targets = append(targets, c)
		}
	}
	return targets
}

// ShutdownAPI sends the WS-API's serverShutdown event,
// {"event":{"e":"serverShutdown","E":<ms>}}, on every open WS-API
// connection, in order with its answers, and returns how many it reached
// (Binance WebSocket API "Connection events": "serverShutdown event is
// sent when the server is about to shut down",
// https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/connection-events).
// The connections stay open: [Venue.CloseAPI] makes the cut.
// [Venue.Inject] (FaultServerShutdown) sends the streams' own.
func (v *Venue) ShutdownAPI() int {
	targets := v.apiConns()
	for _, c := range targets {
		v.faults.Add(1)
		c.reply([]byte(`{"event":{"e":"serverShutdown","E":` + strconv.FormatInt(v.now().UnixMilli(), 10) + `}}`))
	}
	return len(targets)
}

// CloseAPI closes every open WS-API connection with a normal close frame,
// as the venue does before maintenance, and returns how many it closed.
// [Venue.Inject] leaves them alone.
func (v *Venue) CloseAPI() int {
	targets := v.apiConns()
	for _, c := range targets {
		v.faults.Add(1)
		c.mu.Lock()
		c.userSub = -1 // a closing connection's subscription ends at once
		c.mu.Unlock()
		c.closeWith(websocket.StatusNormalClosure, "")
	}
	return len(targets)
}

// checkTimestamp applies Binance's timing rule (WS-API "Timing security"):
// a request is served only when timestamp < serverTime + 1000 ms and
// serverTime − timestamp ≤ recvWindow. The timestamp may be in
// milliseconds or microseconds ("General API Information"; taken as
// microseconds from 16 digits on, a millisecond time past the year
// 5000), and recvWindow may have three decimals (microseconds).
func checkTimestamp(ts, recvWindow string, now time.Time) (code int, msg string) {
	t, ok := timestampMicros(ts)
	if !ok {
		return -1102, mandatory("timestamp")
	}
	window := int64(defaultRecvWindow) * 1000
	if recvWindow != "" {
		w, ok := recvWindowMicros(recvWindow)
		if !ok || w <= 0 || w > maxRecvWindow*1000 {
			return -1131, "recvWindow must be less than 60000"
		}
		window = w
	}
	server := now.UnixMicro()
	switch {
	case t >= server+1000*1000:
		return -1021, "Timestamp for this request was 1000ms ahead of the server's time."
	case server-t > window:
		return -1021, "Timestamp for this request is outside of the recvWindow."
	}
	return 0, ""
}

// microsFrom is the smallest timestamp read as microseconds: 16 digits.
const microsFrom = 1_000_000_000_000_000

// timestampMicros reads a timestamp parameter, in milliseconds or
// microseconds, as Unix microseconds.
func timestampMicros(s string) (int64, bool) {
	t, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil || t <= 0:
		return 0, false
	case t >= microsFrom:
		return t, true
	case t > math.MaxInt64/1000:
		return 0, false
	}
	return t * 1000, true
}

// timestampMillis is a timestamp parameter in Unix milliseconds, 0 when
// unreadable.
func timestampMillis(s string) int64 {
	t, _ := timestampMicros(s)
	return t / 1000
}

// recvWindowMicros reads recvWindow, milliseconds with up to three
// decimals, as microseconds.
func recvWindowMicros(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 3 || len(whole) == 0 || len(whole) > 6 || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, false
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "000")[:3], 10, 64)
	return w*1000 + f, true
}

// codeSubscriptionActive is Binance's -2035 SUBSCRIPTION_ACTIVE, "User
// Data Stream subscription already active." (spot "Error codes").
const codeSubscriptionActive = -2035

// subscribeUserData serves userDataStream.subscribe and its .signature
// form: the signed one is checked like an order (key, signature and, with
// a secret, the timestamp against recvWindow), and either is refused
// with -2035 while the connection has a subscription active; each is
// recorded.
func (c *conn) subscribeUserData(req apiRequest) {
	v := c.v
	rec := UserDataSubscription{Conn: c.id}
	if req.Method == "userDataStream.subscribe.signature" {
		rec.Timestamp = timestampMillis(param(req.Params, "timestamp"))
		if code, msg := c.checkSignature(req.Params); code != 0 {
			rec.Code = code
			v.uds.mu.Lock()
			v.uds.subs = append(v.uds.subs, rec)
			v.uds.mu.Unlock()
			v.rejected.Add(1)
			c.answer(req, apiError(req.ID, 400, code, msg))
			return
		}
	}
	accept := func() {
		// In effect once its answer is queued, not before: an event of
		// the subscription (eventStreamTerminated) never precedes it.
		// Numbered from 0 in the session (Binance: "Subscriptions are
		// identified by a subscriptionId"); one per account and
		// connection ("You can have only one active subscription for a
		// given account on a given connection"): another while one is
		// active is refused with -2035 SUBSCRIPTION_ACTIVE (spot "Error
		// codes") and the first stays.
		c.mu.Lock()
		active := c.userSub >= 0
		if active {
			rec.Code = codeSubscriptionActive
		} else {
			rec.Accepted = true
		}
		v.uds.mu.Lock()
		v.uds.subs = append(v.uds.subs, rec)
		v.uds.mu.Unlock()
		if active {
			v.rejected.Add(1)
			c.answer(req, apiError(req.ID, 400, codeSubscriptionActive, "User Data Stream subscription already active."))
		} else {
			c.userSub = c.subSeq
			c.subSeq++
			c.answer(req, apiResult(req.ID, marshal(&struct {
				SubscriptionID int `json:"subscriptionId"`
			}{c.userSub})))
		}
		c.mu.Unlock()
	}
	v.uds.run(&v.uds.subsHeld, accept)
}

// HoldUserData, with hold true, makes the WS-API hold every user-data
// subscription it receives from now on, unanswered and not yet in effect:
// a client that reconnected has then no user-data stream, and the
// execution reports of fills and cancels made meanwhile ([Venue.FillOrder],
// [Venue.EndOrder]) are lost, as Binance loses them for a connection
// without a subscription. With hold false, the held subscriptions are
// accepted, in order, and answered. It returns how many were waiting.
func (v *Venue) HoldUserData(hold bool) int { return v.uds.set(&v.uds.subsHeld, hold) }

// HeldUserData returns how many user-data subscriptions HoldUserData is
// holding now.
func (v *Venue) HeldUserData() int { return v.uds.waiting(&v.uds.subsHeld) }

// serveTime answers GET /api/v3/time with the venue's clock, {"serverTime":ms}.
func (v *Venue) serveTime(w http.ResponseWriter, r *http.Request) {
	if !v.admitREST(w, r, restWeight(r.URL.Path, 0)) {
		return
	}
	b := marshal(&struct {
		ServerTime int64 `json:"serverTime"`
	}{v.now().UnixMilli()})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// userConn returns the connection that receives an order's execution
// reports: the one the order came from while it is open and subscribed,
// else the newest open WS-API connection subscribed to the user-data
// stream (Binance sends an account's events to every user-data
// subscription, so a client that reconnected and subscribed again still
// hears of its resting orders), else c.
func (v *Venue) userConn(c *conn) *conn {
	if c.ctx.Err() == nil && c.userSubscribed() {
		return c
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	best := c
	for x := range v.conns {
		if x.api && x.ctx.Err() == nil && x.userSubscribed() && (best == c || x.id > best.id) {
			best = x
		}
	}
	return best
}

func (c *conn) userSubscribed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userSub >= 0
}
