package session

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/goccy/go-json/jsontext"

	"github.com/meltica/meltica/internal/safejson"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// venueOrders are the order calls of a venue whose orders go on an
// authenticated WebSocket other than Binance's WS-API: OKX's private
// connection ("order", "cancel-order" operations), Bybit's trade
// connection ("order.create", "order.cancel") and Kraken's authenticated
// connection ("add_order", "cancel_order"). It tracks each request by
// its id until the venue's answer, the caller's context, the loss of the
// connection or Close ends it. The encoding and the reading of answers are
// normalize's ([normalize.OKXOrders], [normalize.BybitAnswers], …): a venue
// is data here.
type venueOrders struct {
	s      *Session
	client *wsclient.Client // the connection orders go on
	// appendRequest appends the request for req with request id id; id 0
	// only checks that the venue can express req.
	appendRequest func(dst []byte, id uint64, req *schema.OrderRequest) ([]byte, error)
	// read reads a frame of the connection: ok false when it is no order
	// answer. a is the reader's, reused.
	read func(data []byte, a *normalize.OrderAnswer) (ok bool, err error)
	ans  normalize.OrderAnswer // the reader's
	// rec follows the orders placed and looks up those of unknown
	// outcome; nil when the venue's orders are not reconciled.
	rec *reconciler
	// reconnect replaces the connection of the frame being read (the
	// private connection's closeAhead), told of a refusal that says it
	// serves no new request (refusalKinds.reconnect); nil: none.
	reconnect func()

	mu      sync.Mutex
	nextID  uint64
	conn    uint64 // the logged-in connection orders go out on; 0 none
	pending map[uint64]pendingOrder
	// late are requests whose caller stopped waiting (its ctx ended) while
	// their answer may still come: kept, at most maxLate, until it does or
	// their connection goes, so that a late answer reaches the dispatcher
	// with its symbol (the venues' answers carry none) and a late
	// placement's ack is followed like any other.
	late map[uint64]pendingOrder
	// idle is closed once no request awaits its answer on a connection
	// other than idleNew (idleExcept: a rotation's switch waits for it);
	// nil when nobody waits.
	idle    chan struct{}
	idleNew uint64
	// graceFor is the connection a rotation switched to, while the one it
	// replaced still delivers its answers (graceFrom): retain keeps the
	// requests in flight on it until graceEnd fires; 0 none.
	graceFor  uint64
	graceEnd  wsclient.Timer
	sent      uint64
	answered  uint64
	timedOut  uint64
	lostInFly uint64
}

// pendingOrder is a request waiting for its answer.
type pendingOrder struct {
	ch     chan answer // capacity 1: one answer per id
	conn   uint64      // the connection it went out on
	symbol string
	place  bool // a placement: its ack names an order to follow
	// cid and vid are the order the request names (a placement: its
	// ClientOrderID; a cancel: OrigClientOrderID and VenueOrderID; zero
	// when not given): an ack naming another is none of it (names).
	cid, vid schema.ID
}

// newPendingOrder is the wait for the answer to req, sent on conn: a
// placement names its ClientOrderID, a cancel OrigClientOrderID and
// VenueOrderID.
func newPendingOrder(conn uint64, req *schema.OrderRequest) pendingOrder {
	p := pendingOrder{ch: make(chan answer, 1), conn: conn, symbol: req.Symbol, place: req.Action == schema.ActionPlace, cid: req.ClientOrderID}
	if !p.place {
		p.cid, p.vid = req.OrigClientOrderID, req.VenueOrderID
	}
	return p
}

// names reports whether ack names the order p asked about, as far as
// both say: the venues echo the ids as sent (OKX v5 "Place order" and
// "Cancel order": ordId, clOrdId; Bybit v5 "WebSocket Trade":
// orderId, orderLinkId; Kraken "add_order" and "cancel_order":
// order_id, cl_ord_id; Binance WebSocket API "Place new order (TRADE)":
// orderId, clientOrderId, and "Cancel order (TRADE)": orderId and
// origClientOrderId the cancelled order's, clientOrderId the cancel's own
// newClientOrderId — so a cancel's answer that gives an
// OrigClientOrderID names the order by it). Compared ignoring case and
// dashes (sameID), so that no venue's rewriting of a UUID (Kraken's short
// and long forms, "Spot Client Order Identifiers") reads as another order.
func (p *pendingOrder) names(ack *Ack) bool {
	cid := ack.ClientOrderID
	if !p.place && !ack.OrigClientOrderID.IsZero() {
		cid = ack.OrigClientOrderID
	}
	return sameID(p.cid.Bytes(), cid.Bytes()) && sameID(p.vid.Bytes(), ack.VenueOrderID.Bytes())
}

// check is a, the answer to request id (p), unless a is a success naming
// another order than p's (names): that is ErrBadAnswer (errOtherOrder) to
// the caller — what became of p's order unknown — and other says so, so
// that the answer is neither handed on nor followed as p's. Every venue's
// answers pass here (venueOrders.deliver, orders.deliver).
func (p *pendingOrder) check(id uint64, a answer) (checked answer, other error) {
	if a.err != nil || a.noOrder || p.names(&a.ack) {
		return a, nil
	}
	return answer{ack: Ack{RequestID: id}, err: fmt.Errorf("%w: %w", ErrBadAnswer, errOtherOrder)}, errOtherOrder
}

// sameID reports whether ids a and b may name the same order: either is
// empty (not said), or they are equal ignoring ASCII case and dashes.
func sameID(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	i, j := 0, 0
	for {
		for i < len(a) && a[i] == '-' {
			i++
		}
		for j < len(b) && b[j] == '-' {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if lower(a[i]) != lower(b[j]) {
			return false
		}
		i, j = i+1, j+1
	}
}

// lower is c in ASCII lower case.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// newVenueOrders starts the request ids at the local time in ms × 1000:
// a restarted session never repeats an id of the one before it (Bybit
// refuses a reqId it has seen: 20006), and they stay within the venues'
// limits (OKX 32 characters, Bybit 36).
func newVenueOrders(s *Session) *venueOrders {
	return &venueOrders{s: s, pending: map[uint64]pendingOrder{}, late: map[uint64]pendingOrder{},
		nextID: uint64(max(s.cfg.Now().UnixMilli(), 0)) * 1000}
}

// maxLate bounds venueOrders.late: past it, the oldest-issued id is
// dropped (its late answer then reaches the dispatcher without a symbol).
const maxLate = 256

// venueLane is the order connection of OKX, Bybit and Kraken (see
// [Session.Place]), or why there is none.
func (s *Session) venueLane() (orderLane, error) {
	var v *venueOrders
	if p := s.private; p != nil {
		v = p.orders
		if p.trade != nil {
			v = p.trade.orders
		}
	}
	if v == nil {
		why := "Config.Key (OKX, Bybit, Kraken) or Config.Credentials (Binance)"
		switch {
		case s.private != nil && s.spec.venue == schema.VenueBybit:
			why = "Endpoints.Trade, Bybit's trade WebSocket"
		case s.private != nil:
			why = "a venue with order calls: " + string(s.spec.venue) + "'s are not supported yet"
		}
		return nil, fmt.Errorf("%w: orders need %s", ErrNoCredentials, why)
	}
	return v, nil
}

// An OKX or Bybit connection as an orderLane.

// check: what the venue cannot express fails before any wait.
func (v *venueOrders) check(req *schema.OrderRequest) error {
	_, err := v.appendRequest(nil, 0, req)
	return err
}

func (v *venueOrders) encode(id uint64, req *schema.OrderRequest) ([]byte, error) {
	return v.appendRequest(nil, id, req)
}

func (v *venueOrders) next() (id, conn uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.nextID++
	return v.nextID, v.conn
}

func (v *venueOrders) await(id, conn uint64, req *schema.OrderRequest) (chan answer, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.conn != conn {
		return nil, false
	}
	p := newPendingOrder(conn, req)
	v.pending[id] = p
	return p.ch, true
}

func (v *venueOrders) writeConn(ctx context.Context, conn uint64, msg []byte) error {
	return v.client.WriteConn(ctx, conn, msg)
}

func (v *venueOrders) sentOne()     { v.mu.Lock(); v.sent++; v.mu.Unlock() }
func (v *venueOrders) timedOutOne() { v.mu.Lock(); v.timedOut++; v.mu.Unlock() }

func (v *venueOrders) unanswered(conn uint64) {
	if v.client.Stats().ConnID != conn || v.s.closing.Load() {
		return // replaced already (the new connection has no such doubt), or closing
	}
	if v.s.cfg.Logger != nil {
		v.s.cfg.Logger.Info("session: a request went unanswered on the order connection; replacing it",
			"venue", string(v.s.spec.venue), "conn_id", conn)
	}
	_ = v.client.Rotate() // the Rotating event holds orders until the switch (private.step)
}

// outcome: a placement of unknown outcome is looked up after the next
// reconnect, by its client order id.
func (v *venueOrders) outcome(req *schema.OrderRequest, err error) {
	if v.rec != nil {
		v.rec.outcome(req, err)
	}
}

func (v *venueOrders) forget(id uint64, written bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	p, ok := v.pending[id]
	if !ok {
		return
	}
	delete(v.pending, id)
	v.settleLocked()
	if !written {
		return
	}
	if len(v.late) >= maxLate {
		oldest := id
		for l := range v.late {
			oldest = min(oldest, l)
		}
		delete(v.late, oldest)
	}
	p.ch = nil
	v.late[id] = p
}

// setConn names the logged-in connection orders go out on (0: none).
func (v *venueOrders) setConn(conn uint64) {
	v.mu.Lock()
	v.conn = conn
	v.mu.Unlock()
}

// staleReady is called when the connection orders were to go on is not
// the client's current one: orders wait for the next login.
func (v *venueOrders) staleReady(conn uint64) { v.s.unready(&v.mu, &v.conn, conn) }

// retain ends, with ErrDisconnected (ErrClosed when the session is
// closing), every wait for an answer on a connection other than cur, the
// client's connection up now (0: none): an answer comes only on the
// connection its request went out on. While cur is the connection a
// rotation switched to and the one it replaced still delivers its
// answers (graceFrom), the requests in flight on that one wait on.
func (v *venueOrders) retain(cur uint64, closed bool) {
	err := ErrDisconnected
	if closed || v.s.closing.Load() {
		err = ErrClosed
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.conn != cur {
		v.conn = 0
	}
	if v.graceFor != 0 && v.graceFor == cur {
		return // the replaced connection answers still: graceEnd ends its waits
	}
	v.stopGraceLocked()
	v.dropLocked(err, func(c uint64) bool { return c != cur })
}

// dropLocked ends, with err, every wait for an answer on a connection
// gone says it is (under v.mu).
func (v *venueOrders) dropLocked(err error, gone func(conn uint64) bool) {
	for id, p := range v.late {
		if gone(p.conn) {
			delete(v.late, id)
		}
	}
	for id, p := range v.pending {
		if gone(p.conn) {
			delete(v.pending, id)
			v.lostInFly++
			p.ch <- answer{ack: Ack{RequestID: id}, err: err}
		}
	}
	v.settleLocked()
}

// graceFrom is told of a rotation's switch to conn: wsclient keeps the
// replaced connection open RotationOverlap (prepareOverlap) on the Clock
// after it, delivering its answers (Options.IsData), so the requests in
// flight on it wait that long more for them (retain) rather than end
// with ErrDisconnected at the switch: a request the venue answered
// late (after drainBound, which bounds the switch's own wait) gets its
// answer. Then, unanswered, they end as at any loss. One replaced
// connection answers at a time (wsclient ends the grace of the one
// before at the next switch): those of the one before end here.
func (v *venueOrders) graceFrom(conn uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.graceFor != 0 {
		was := v.graceFor // (the one replaced now)
		v.dropLocked(ErrDisconnected, func(c uint64) bool { return c != was && c != conn })
	}
	v.stopGraceLocked()
	v.graceFor = conn
	v.graceEnd = v.s.cfg.Client.Clock.AfterFunc(prepareOverlap, func() { v.endGrace(conn) })
}

// endGrace ends the replaced connection's grace of the switch to conn:
// the requests still waiting on it end with ErrDisconnected. A grace
// ended already (a later switch's runs, or a loss cut it short) is left.
func (v *venueOrders) endGrace(conn uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.graceFor != conn || conn == 0 {
		return
	}
	v.stopGraceLocked()
	v.dropLocked(ErrDisconnected, func(c uint64) bool { return c != conn })
}

// replacedEnded is wsclient's Options.OnReplacedEnd: old, a connection a
// rotation replaced, ended (its grace ran out, the venue closed it, it
// was lost), and no answer comes on it any more: the requests still
// waiting on it end at once with ErrDisconnected ("lost while waiting,
// outcome unknown"; ErrClosed while the session closes), not when the
// grace's timer fires. By connection id, so that it may come before the
// switch's Connected event (graceFrom) or after the next switch's.
func (v *venueOrders) replacedEnded(old uint64) {
	err := ErrDisconnected
	if v.s.closing.Load() {
		err = ErrClosed
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.dropLocked(err, func(c uint64) bool { return c == old })
}

// stopGraceLocked ends a grace that runs (under v.mu).
func (v *venueOrders) stopGraceLocked() {
	if v.graceEnd != nil {
		v.graceEnd.Stop()
		v.graceEnd = nil
	}
	v.graceFor = 0
}

// idleExcept returns a channel closed once no request awaits its answer
// on a connection other than conn, a rotation's new one: the requests
// the old connection must still answer before the switch closes it.
// Requests whose caller gave up (late) are not waited for.
func (v *venueOrders) idleExcept(conn uint64) <-chan struct{} {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.idle == nil {
		v.idle = make(chan struct{})
	}
	ch := v.idle
	v.idleNew = conn
	v.settleLocked()
	return ch
}

// settleLocked closes idle once no request awaits its answer on a
// connection other than idleNew (under v.mu).
func (v *venueOrders) settleLocked() {
	if v.idle == nil {
		return
	}
	for _, p := range v.pending {
		if p.conn != v.idleNew {
			return
		}
	}
	close(v.idle)
	v.idle = nil
}

// handleFrame takes the venue's answer to an order request from a frame
// of the connection, before the parser: done is false for every other
// frame. The answer goes to the caller waiting for it, and on to the
// dispatcher (an schema.EventOrderAck, or an schema.EventControl of kind
// schema.ControlVenueError). An answer that cannot be read is
// [ErrBadAnswer] to its caller at once, not a wait until the deadline.
// It runs on the connection's reader.
func (v *venueOrders) handleFrame(ctx context.Context, f *schema.WsFrame) (done bool, err error) {
	a := &v.ans
	ok, err := v.read(f.Data, a)
	if !ok {
		return false, nil
	}
	id := a.RequestID
	if id == 0 && err == nil && !a.Accepted && echoesNoID(f.Data) {
		if sole, ok := v.sole(f.ConnID); ok {
			id, a.RequestID = sole, sole
		}
	}
	if err == nil && a.Accepted && a.VenueOrderID.IsZero() && a.ClientOrderID.IsZero() {
		// A success that names no order (OKX "data":[] or [7], Bybit
		// "result":{}, Kraken "result":null): not an ack of this order;
		// what became of it is unknown, as the Binance path says
		// (errNoOrder).
		err = errNoOrder
	}
	var ans answer
	switch {
	case err != nil:
		ans = answer{ack: Ack{RequestID: id}, err: fmt.Errorf("%w: %w", ErrBadAnswer, err)}
	case a.Accepted:
		ans.ack = Ack{RequestID: id}
		ans.ack.VenueOrderID, ans.ack.ClientOrderID, ans.ack.TransactTime = a.VenueOrderID, a.ClientOrderID, a.TS
	default:
		verr := &VenueError{RequestID: id, Code: a.Code, Msg: a.Msg}
		if a.RetryAfter > 0 {
			verr.RetryAfter = time.Unix(0, a.RetryAfter)
		}
		ans.err = verr
		v.s.clockRefused(a.Code)
		if v.reconnect != nil && venueRefusals[v.s.spec.venue].reconnects(verr) {
			v.reconnect()
		}
	}
	req, other := v.deliver(id, ans)
	if err == nil {
		err = other
	}
	if err != nil {
		return true, err
	}
	v.publish(ctx, f, a, req)
	return true, nil
}

// sole is the request awaiting its answer on conn when it is the only
// request of conn whose answer may still come (pending, or late: its
// caller gone): a refusal that echoes no request id is then its answer
// (soleAnswer). ok is false with none, or several.
//
// soleAnswer: venues answer some errors without the request's id — OKX
// v5 "WebSocket → Subscribe", failure example {"event":"error","code":
// "60012","msg":"Invalid request: …","connId":"…"} (no "id", though the
// request sent one), Bybit and Kraken refusals whose req_id/reqId is
// absent, Binance's WS-API {"id":null,…} ("Response format": the answer's id
// is "INT / STRING / null"; a request it cannot read is answered so), Coinbase's {"type":"error"}, which
// echoes nothing ever. While one request alone awaits an answer on the
// connection, such an error can answer no other: the caller gets the
// venue's code at once, not a wait until its deadline. With several, it
// answers none (a wrong pairing would fail another caller's order).
func (v *venueOrders) sole(conn uint64) (uint64, bool) {
	id, n := v.awaiting(conn)
	return id, n == 1 && id != 0
}

// awaits reports whether a request of conn may still be answered there
// (pending, or late: its caller gone). A refusal echoing no id that comes
// while another request of conn (a subscription's) awaits its answer too
// answers neither (soleAnswer, private.Publish).
func (v *venueOrders) awaits(conn uint64) bool {
	_, n := v.awaiting(conn)
	return n != 0
}

// awaiting counts the requests of conn whose answer may still come; id is
// a pending one's (0: none pending).
func (v *venueOrders) awaiting(conn uint64) (id uint64, n int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for i, p := range v.pending {
		if p.conn == conn {
			id, n = i, n+1
		}
	}
	for _, p := range v.late {
		if p.conn == conn {
			n++
		}
	}
	return id, n
}

// echoesNoID reports whether a venue's answer carries no request id at
// its top level: no "id" (OKX, Binance), "reqId" (Bybit) or "req_id"
// (Kraken), or null. An id the session could not read (malformed, out of
// range) is an id all the same: the answer of some request, maybe not the
// sole one's. A decoder panic (goccy v0.12 is a fresh rewrite) is an id,
// never raised on the reader. It decodes the frame once, for refusals
// without a readable id only.
func echoesNoID(data []byte) (none bool) {
	var m struct {
		ID    jsontext.Value `json:"id"`
		ReqID jsontext.Value `json:"reqId"`
		Req   jsontext.Value `json:"req_id"`
	}
	if safejson.Unmarshal(data, &m) != nil {
		return false
	}
	for _, v := range [...]jsontext.Value{m.ID, m.ReqID, m.Req} {
		if len(v) != 0 && string(v) != "null" {
			return false
		}
	}
	return true
}

// soleRefusal: ev, a refusal echoing no request id on conn, answers the
// request alone awaiting one there (sole); it is delivered to its caller
// and ev names it. It runs on the connection's reader.
func (v *venueOrders) soleRefusal(conn uint64, ev *schema.CanonicalEvent) {
	id, ok := v.sole(conn)
	if !ok {
		return
	}
	c := ev.UseControl() // carried: an idless refusal (private.Publish)
	c.RequestID = id
	v.s.clockRefused(c.Code)
	req, _ := v.deliver(id, answer{ack: Ack{RequestID: id}, err: &VenueError{RequestID: id, Code: c.Code, Msg: c.Reason}})
	if ev.Symbol == "" {
		ev.Symbol = req.symbol
	}
}

// deliver hands an answer to the caller waiting for id, if any, and
// returns the request as it was sent. An ack naming another order than
// the request's (pendingOrder.names) is ErrBadAnswer (errOtherOrder) to
// the caller, and other says so: the answer is none of this order's,
// what became of it unknown.
func (v *venueOrders) deliver(id uint64, a answer) (req pendingOrder, other error) {
	v.mu.Lock()
	p, ok := v.pending[id]
	if ok {
		delete(v.pending, id)
		v.answered++
		v.settleLocked()
	} else if l, late := v.late[id]; late {
		delete(v.late, id)
		p = l // the caller is gone; the dispatcher still learns of it
	}
	v.mu.Unlock()
	a, other = p.check(id, a)
	if !ok {
		return p, other
	}
	a.ack.Symbol = p.symbol
	p.ch <- a
	return p, other
}

// publish hands the answer to the dispatcher, as Binance's parser does
// with its WS-API answers.
func (v *venueOrders) publish(ctx context.Context, f *schema.WsFrame, a *normalize.OrderAnswer, req pendingOrder) {
	s, sym := v.s, req.symbol
	ev, err := s.pools.Events.Get(ctx)
	if err != nil {
		return
	}
	ev.Venue, ev.Symbol, ev.IngestTS, ev.ExchangeTS = s.spec.venue, sym, f.ReceivedAt, a.TS
	c := ev.UseControl()
	c.RequestID = a.RequestID
	if a.Accepted {
		ev.Type = schema.EventOrderAck
		x := ev.UseExec()
		x.VenueOrderID, x.ClientOrderID, x.TransactTime = a.VenueOrderID, a.ClientOrderID, a.TS
		if req.place && v.rec != nil {
			v.rec.ack(ev) // followed from its ack on
		}
	} else {
		ev.Type = schema.EventControl
		c.Kind, c.Code, c.Reason = schema.ControlVenueError, a.Code, a.Msg
	}
	_ = s.disp.Publish(ctx, ev)
}

// stats adds the order counters to st.
func (v *venueOrders) stats(st *OrderStats) {
	v.mu.Lock()
	defer v.mu.Unlock()
	st.Sent, st.Answered, st.TimedOut, st.Disconnected, st.Pending = v.sent, v.answered, v.timedOut, v.lostInFly, len(v.pending)
}

// okxOrders: the operations go on the private connection, after its login
// and subscriptions.
func okxOrders(s *Session) *venueOrders {
	v := newVenueOrders(s)
	enc := normalize.NewOKXOrders(&normalize.OKXOrderOptions{Symbols: s.syms})
	var r normalize.OKXAnswers
	v.appendRequest, v.read = enc.AppendRequest, r.Read
	return v
}

// bybitOrders: the requests go on the trade connection, stamped with the
// venue's time (Config.RecvWindow is their X-BAPI-RECV-WINDOW).
func bybitOrders(s *Session) *venueOrders {
	v := newVenueOrders(s)
	enc := normalize.NewBybitOrders(&normalize.BybitOrderOptions{Symbols: s.syms, RecvWindow: s.cfg.RecvWindow})
	var r normalize.BybitAnswers
	v.appendRequest = func(dst []byte, id uint64, req *schema.OrderRequest) ([]byte, error) {
		return enc.AppendRequest(dst, id, req, s.clock.venueNow())
	}
	v.read = r.Read
	return v
}

// tradeStatePrefix starts the Control.Reason of the trade connection's
// state events.
const tradeStatePrefix = "trade: "

// publishTradeState tells the subscribers of a state change of Bybit's
// trade connection: an schema.EventConnState whose Control.Reason starts
// with "trade: " and whose Control.Code is the connection id.
func (s *Session) publishTradeState(e wsclient.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ev, err := s.pools.Events.Get(ctx)
	if err != nil {
		return
	}
	ev.Venue, ev.Type, ev.IngestTS = s.spec.venue, schema.EventConnState, e.Stamp()
	*ev.UseControl() = schema.Control{Kind: schema.ControlConnState, State: e.State, Code: int64(e.ConnID),
		Reason: tradeStatePrefix + e.Reason.String()}
	_ = s.disp.Publish(ctx, ev)
}
