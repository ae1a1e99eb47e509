package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/goccy/go-json/jsontext"

	"github.com/meltica/meltica/internal/safejson"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// writeTimeout bounds the session's own subscription writes.
const writeTimeout = 10 * time.Second

// Ack is the venue's acceptance of a request: the order as the venue
// answered it (its ids, status, quantities; for a cancel, the canceled
// order). Execution reports for the order still arrive on the dispatcher's
// critical lane.
type Ack struct {
	RequestID uint64 // the request id the answer carried
	Symbol    string // canonical
	schema.Execution
}

// answer is what a waiting request receives.
type answer struct {
	ack     Ack
	err     error
	noOrder bool // a success without the order (to an order request, ErrBadAnswer)
}

// orders is the WS-API connection: requests out, answers and the
// user-data stream in.
type orders struct {
	s      *Session
	client *wsclient.Client
	parser *normalize.Parser
	enc    *normalize.BinanceOrders
	rec    *reconciler // open orders, reconciled after a window without the user-data stream
	bq     *binanceQueries
	runErr error

	mu      sync.Mutex
	last    schema.ConnState // of the latest event
	upConn  uint64           // the connection up as the latest event was handled, 0 when none
	nextID  uint64
	pending map[uint64]pendingOrder
	// graced are the requests in flight on the connection a rotation
	// replaced, which still delivers its answers until graceEnd fires
	// (grace); nil none.
	graced   map[uint64]pendingOrder
	graceEnd wsclient.Timer
	graceGen uint64 // grace's calls: a timer of an earlier one ends nothing
	replaced uint64 // the connection the latest prepared switch replaced; 0 none
	// late are the requests given up by their callers, maybe still
	// answered (forget; a query's, binanceQueries.givenUp; the user-data
	// subscription's, userDataUnanswered), each with the connection it
	// went out on (pendingOrder.conn: sole counts it there).
	late map[uint64]pendingOrder
	// pendConn is the connection the requests in pending went out on
	// (the latest await's: readyConn; a connection's end fails them or
	// moves them to graced).
	pendConn uint64
	// lateGraced are the late of the connection a rotation replaced,
	// answered maybe still in its grace: counted by sole until it ends.
	lateGraced map[uint64]pendingOrder
	// queried counts the reconciliation queries in flight
	// (binanceQueries.query) by the connection they went out on: an
	// id-less refusal on that connection may be one's (sole).
	queried map[uint64]int
	// replacedGone is the last connection wsclient reported ended after
	// a rotation replaced it (replacedEnded); 0 none.
	replacedGone uint64
	udsID        uint64   // the id of the latest user-data subscription request
	udsTS        int64    // its timestamp, Unix ms
	udsConn      uint64   // the connection it went out on
	udsTries     int      // refusals in a row, for the retry's backoff
	renews       int      // -2042 refusals in a row, for the replacement's backoff (renewLater)
	udsWait      uint64   // udsID while its answer is awaited (answerTimeout), else 0
	udsDue       deadline // udsWait's
	// refusal is what the frame the reader is handling says of a
	// refusal beyond its code: its status and when the venue takes
	// requests again. The reader's only.
	refusal   refusalMeta
	frameConn uint64    // the connection of the frame being parsed: the reader's only
	frame     []byte    // the frame being parsed (the reader's, only while it is)
	udsEnds   int       // user-data streams the venue ended on the current connection, in a burst
	udsEndAt  time.Time // when the venue last ended one (the injected clock)
	readyConn uint64    // the connection whose subscription the venue accepted: orders go out on it only
	retired   uint64    // the ready connection retire took orders off, until its rotation ends
	// prepConn is the rotation's new connection whose user-data
	// subscription prepare awaits (prepDone is told its answer), then,
	// accepted, the connection the switch makes ready (prepOK); 0 none.
	prepConn uint64
	prepDone chan error
	prepOK   bool
	// idle is closed once no request awaits its answer (idleAll: a
	// rotation's switch waits for it); nil when nobody waits.
	idle    chan struct{}
	repeats repeats        // reports sent on both connections of a rotation
	maxAge  time.Duration  // a connection that age is replaced ahead of the venue's 24 h cut (ageOut); ≤ 0 never
	aged    wsclient.Timer // the current connection's ageOut, nil when none
	udsSent uint64
	// udsRefused counts the user-data subscriptions refused or
	// unanswered: OrderStats.Refused.
	udsRefused uint64
	sent       uint64
	answered   uint64
	timedOut   uint64
	lostInFly  uint64
}

func newOrders(s *Session) (*orders, error) {
	cfg := &s.cfg
	o := &orders{s: s, pending: map[uint64]pendingOrder{}}
	o.repeats.clk = cfg.Client.Clock
	o.udsDue.s = s
	o.enc = normalize.NewBinanceOrders(cfg.Credentials, &normalize.OrderOptions{
		Symbols: s.syms, RecvWindow: cfg.RecvWindow, Now: s.clock.venueNow,
	})
	o.parser = normalize.NewBinance(s.pools.Events, o, &normalize.Options{Symbols: s.syms, Logger: cfg.Logger})
	o.bq = newBinanceQueries(o)
	o.rec = newReconciler(s, o.bq)
	opts := cfg.Client
	opts.Venue = schema.VenueBinance
	opts.Frames = s.pools.Frames
	opts.Topics, opts.EncodeSubscribe, opts.Subscriptions = nil, nil, nil
	// IsData: every frame is no data, so that a replaced connection's
	// answers reach the handler after a rotation's switch (grace).
	opts.DataTimeout, opts.IsData = noDataTimeout, noData
	// Answers come back on the connection the request went out on: a
	// rotation in wsclient's own time would strand them. The WS-API
	// connection lives 24 h (Binance WebSocket API "General API
	// Information": "A single connection to the API is only valid for 24
	// hours; expect to be disconnected after the 24 hour mark"): at
	// o.maxAge (Config.Client.MaxAge, by default 23 h; negative: never)
	// the session replaces it as after serverShutdown (ageOut, retire),
	// orders held back until the switch to the new one, whose user data is
	// subscribed before it (prepare).
	o.maxAge = opts.MaxAge
	if o.maxAge == 0 {
		o.maxAge = binanceMaxAge
	}
	opts.MaxAge = 0
	// A quiet account sends nothing for hours, and Binance's keep-alive is
	// WebSocket pings, which are no messages: with pings on, the pong
	// timeout alone judges this connection (an idle watchdog redialled it
	// every IdleTimeout, and reports sent meanwhile were lost).
	if opts.PingInterval >= 0 {
		opts.IdleTimeout = -1
	}
	// Binance announces a server's shutdown (serverShutdown): the session
	// then asks wsclient for a new connection at once (retire), as at
	// o.maxAge (ageOut). Its user data is subscribed before the switch
	// (prepare): make-before-break, the user-data stream never down.
	opts.Prepare = o.prepare
	opts.RotationOverlap = prepareOverlap
	opts.OnEvent = o.onEvent
	opts.OnReplacedEnd = o.replacedEnded // (the grace ends with the replaced connection)
	c, err := wsclient.New(cfg.Endpoints.API, o.handleFrame, &opts)
	if err != nil {
		return nil, err
	}
	o.client = c
	return o, nil
}

// handleFrame parses a WS-API message. When the parser cannot read an
// answer to a request (an error, or a message it does not know), the
// request's caller is told so at once, rather than waiting out its
// deadline for an answer that has come: the venue answered, but what it
// said is unknown.
func (o *orders) handleFrame(ctx context.Context, f *schema.WsFrame) error {
	if o.bq.answer(f.Data) { // a reconciliation query's answer
		return nil
	}
	o.frameConn, o.frame = f.ConnID, f.Data
	defer func() { o.frame = nil }()
	o.refusal = refusalOf(f.Data)
	defer func() { o.refusal = refusalMeta{} }()
	unknown := o.parser.Stats().Unknown
	err := o.parser.HandleFrame(ctx, f)
	if err != nil || o.parser.Stats().Unknown != unknown {
		if id := answerID(f.Data); id != 0 {
			why := err
			if why == nil {
				why = errors.New("a message the parser does not know")
			}
			_ = o.deliver(id, answer{ack: Ack{RequestID: id}, err: fmt.Errorf("%w: %w", ErrBadAnswer, why)}) // (an error: never another order's)
		}
	}
	return err
}

// refusalMeta is what a WS-API refusal says beyond its code and message
// (Binance WS-API "Response format" and "Rate limits"): its status (400,
// 403, 409, 418 an IP ban, 429 over a rate limit, 5xx) and, for 418 and
// 429, error.data.retryAfter, when the venue takes requests again (Unix
// ms).
type refusalMeta struct {
	status     int
	retryAfter int64
}

var errorKey = []byte(`"error"`)

// refusalOf reads a frame's refusalMeta; the zero value for a frame that
// is no refusal, or that cannot be read (a decoder panic included).
func refusalOf(data []byte) (r refusalMeta) {
	if !bytes.Contains(data, errorKey) {
		return r
	}
	var m struct {
		Status int `json:"status"`
		Error  struct {
			Data struct {
				RetryAfter int64 `json:"retryAfter"`
			} `json:"data"`
		} `json:"error"`
	}
	if safejson.Unmarshal(data, &m) != nil {
		return refusalMeta{}
	}
	return refusalMeta{status: max(m.Status, 0), retryAfter: max(m.Error.Data.RetryAfter, 0)}
}

// answerID is the numeric top-level "id" of a WS-API answer, 0 when it
// has none. It runs for messages the parser refused — the very ones that
// may have made the decoder panic there — and before the parser while
// reconciliation queries are in flight: a decoder panic (goccy v0.12 is
// a fresh rewrite) is no id, never raised on the connection's reader.
func answerID(data []byte) (id uint64) {
	var m struct {
		ID jsontext.Value `json:"id"`
	}
	if safejson.Unmarshal(data, &m) != nil {
		return 0
	}
	id, err := strconv.ParseUint(string(m.ID), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

// Publish is the order parser's sink: a venue's answer goes to the request
// waiting for it, and every event, answers included, on to the
// dispatcher. It runs on the connection's reader and never blocks.
func (o *orders) Publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	if c := ev.ControlOrZero(); ev.Type == schema.EventControl && c.Kind == schema.ControlVenueError && c.RequestID == 0 && !streamEnded(ev) && echoesNoID(o.frame) {
		ev.UseControl().RequestID = o.sole(o.frameConn) // {"id":null,…}: the answer of the request alone awaiting one (soleAnswer)
	}
	if id := ev.ControlOrZero().RequestID; id != 0 && (ev.Type == schema.EventOrderAck || ev.Type == schema.EventControl) {
		if other := o.answer(id, ev); other != nil {
			// Another order's ack: not this request's, so neither
			// published as its answer nor followed (as venueOrders.handleFrame).
			o.s.pools.Events.Put(ev)
			return fmt.Errorf("%w: request %d: %w", ErrBadAnswer, id, other)
		}
	}
	switch ev.Type {
	case schema.EventExecReport: // tracked, and published unless reconciled already
		if o.repeats.check(o.frameConn, ev) {
			o.s.pools.Events.Put(ev) // delivered already, from the rotation's other connection
			return nil
		}
		return o.rec.stream(ctx, ev)
	case schema.EventOrderAck:
		o.rec.ack(ev)
	case schema.EventControl:
		o.mu.Lock()
		replaced := o.frameConn == o.replaced // (its grace: a notice to it is not the new connection's)
		o.mu.Unlock()
		if streamEnded(ev) && !replaced {
			o.streamEnded(o.frameConn)
		}
		if closeAnnounced(ev) && !replaced {
			o.retire(o.frameConn, "the venue announced it will close the order connection")
		}
	}
	return o.s.disp.Publish(ctx, ev)
}

// rotationFailed: no new connection could be had ahead of the announced
// shutdown (wsclient tries again after its backoff); meanwhile orders go
// on the old connection again, whose user-data subscription still holds,
// rather than wait for a connection that may not come before the venue
// closes this one.
func (o *orders) rotationFailed(conn uint64) {
	o.mu.Lock()
	back := o.retired == conn
	if back {
		o.readyConn, o.retired = conn, 0
	}
	o.mu.Unlock()
	if back {
		o.s.state.update(func(b *stateBoard) {
			b.ordersReady = b.ordersState == schema.ConnConnected && b.userDataErr == nil
		})
	}
}

// The WS-API statuses of a refusal for the rate limits (Binance WebSocket
// API "Rate limits"): over a limit, and the IP banned for not backing off.
const (
	statusRateLimited = 429
	statusBanned      = 418
	codeTooManyOrders = -1015 // "Too many new orders; current limit is %s orders per %s."
)

// banned returns ErrNotSent wrapping the venue's refusal while the venue
// bans requests (a 418 or 429 whose retryAfter, by the venue's clock, is
// still to come): "Repeatedly violating rate limits and/or failing to
// back off after receiving 429s will result in an automated IP ban", and
// a ban grows with each request sent during it (Binance WebSocket API
// "Rate limits"). Place and Cancel alike, the IP's limits being every
// request's — but for the unfilled order count (-1015 "Too many new
// orders", Binance "Error codes"; spot "Unfilled Order Count": it counts
// new orders), which holds back places only: a cancel, which lowers the
// count, still goes.
func (s *Session) banned(req *schema.OrderRequest) error {
	now := s.clock.venueNow()
	for _, b := range [...]*VenueError{s.ban.Load(), s.placeBan.Load()} {
		if b == nil || !now.Before(b.RetryAfter) || (b.Code == codeTooManyOrders && req.Action == schema.ActionCancel) {
			continue
		}
		return fmt.Errorf("%w: the venue refuses requests until %s: %w", ErrNotSent, b.RetryAfter.UTC().Format(time.RFC3339), b)
	}
	return nil
}

// holdBan keeps verr, a refusal with a RetryAfter (Binance 418, 429), as
// the ban of its kind unless the one held ends later: a refusal read
// after a ban, of a request sent before it, neither lifts the ban nor
// narrows it to places (-1015).
func (s *Session) holdBan(verr *VenueError) {
	p := &s.ban
	if verr.Code == codeTooManyOrders {
		p = &s.placeBan
	}
	for {
		old := p.Load()
		if old != nil && !verr.RetryAfter.After(old.RetryAfter) {
			return
		}
		if p.CompareAndSwap(old, verr) {
			return
		}
	}
}

// noDataTimeout: Client.DataTimeout (and IsData) hold for the market
// connections only. An order or private connection carries the account's
// reports and answers, and a quiet account sends nothing for hours: no
// data is no fault there. Its liveness is the ping/pong watchdog's (and,
// where the venue answers an application-level ping, the idle
// watchdog's).
const noDataTimeout = 0

// retire reconnects ahead of a shutdown the venue announced on conn
// (Binance WebSocket API "Connection events → Server Shutdown": "Please
// establish a new connection as soon as possible to prevent
// interruption"): orders wait from here on (none goes out on the
// connection about to go, where its answer would be lost with it), a new
// connection is dialled at once (wsclient's Rotate) and its user data
// subscribed (prepare) while the old one still delivers the answers of
// the requests in flight and the reports; the switch lets the orders go
// on the new one. On the reader; it does not block.
func (o *orders) retire(conn uint64, why string) {
	s := o.s
	o.mu.Lock()
	if o.readyConn == conn {
		o.readyConn, o.retired = 0, conn
	}
	o.mu.Unlock()
	s.state.update(func(b *stateBoard) { b.ordersReady = false })
	if s.cfg.Logger != nil {
		s.cfg.Logger.Info("session: "+why+"; reconnecting ahead",
			"venue", string(schema.VenueBinance), "conn_id", conn)
	}
	if err := o.client.Rotate(); err != nil && s.cfg.Logger != nil {
		s.cfg.Logger.Warn("session: reconnecting ahead of the announced close failed", "venue", string(schema.VenueBinance), "err", err)
	}
}

// age schedules ageOut for conn, the connection now up (0: none), in
// place of the previous connection's.
func (o *orders) age(conn uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.aged != nil {
		o.aged.Stop()
		o.aged = nil
	}
	if conn != 0 && o.maxAge > 0 {
		o.aged = o.s.cfg.Client.Clock.AfterFunc(o.maxAge, func() { o.ageOut(conn) })
	}
}

// ageOut: conn reached o.maxAge, short of the venue's 24 h cut, which
// would lose the answers of the requests in flight then: it is replaced
// ahead, as after serverShutdown (retire). Unless conn is gone: by the
// session's view (upConn) or by the client's, ahead of it (the events
// that tell the session come on a goroutine of their own, behind a slow
// Config.OnState) — retire's rotation is the current connection's, and
// would replace the connection just dialled for conn's age.
func (o *orders) ageOut(conn uint64) {
	o.mu.Lock()
	cur := o.upConn
	o.mu.Unlock()
	if cur != conn || o.client.Stats().ConnID != conn || o.s.closing.Load() {
		return // replaced meanwhile, or closing
	}
	o.retire(conn, "the order connection nears the venue's 24 h limit")
}

// streamEnded reports whether ev says the venue stopped the user-data
// stream while the connection stays open: eventStreamTerminated ("sent
// when the User Data Stream is stopped", Binance WebSocket API "User Data
// Stream requests"), or a listenKeyExpired.
func streamEnded(ev *schema.CanonicalEvent) bool {
	c := ev.ControlOrZero()
	return c.Kind == schema.ControlVenueError && c.RequestID == 0 &&
		(c.Reason == "eventStreamTerminated" || c.Reason == "listenKeyExpired")
}

// udsEndsQuiet is how long a user-data stream holds for its end to be
// taken as a new one, not as part of a burst of ends: twice the backoff's
// longest wait.
const udsEndsQuiet = time.Minute

// streamEnded: the venue stopped conn's user-data stream. No execution
// report comes on it any more: orders wait, a running reconciliation pass
// stops, and the subscription is signed again on the same connection —
// at once the first time, then after a backoff (1 s, doubling, at most
// 30 s) should the venue keep ending it (a stream that held
// udsEndsQuiet ends anew at once: the backoff starts over) — whose
// acceptance reconciles what the window missed. It runs on the reader and
// does not block.
func (o *orders) streamEnded(conn uint64) {
	s := o.s
	now := s.cfg.Client.Clock.Now()
	o.mu.Lock()
	if o.readyConn == conn {
		o.readyConn = 0
	}
	if now.Sub(o.udsEndAt) > udsEndsQuiet {
		o.udsEnds = 0
	}
	o.udsEndAt = now
	o.udsEnds++
	ends := o.udsEnds
	o.mu.Unlock()
	s.state.update(func(b *stateBoard) { b.ordersReady = false })
	o.rec.lost()
	if s.cfg.Logger != nil {
		s.cfg.Logger.Warn("session: the venue ended the user-data stream; subscribing again", "venue", string(schema.VenueBinance), "ends", ends)
	}
	var d time.Duration
	if ends > 1 {
		d = min(time.Second<<min(ends-2, 5), 30*time.Second)
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		if s.sleep(d) != nil || o.client.Stats().ConnID != conn {
			return // closing, or replaced: the new connection subscribes by itself
		}
		o.subscribeUserData(conn, nil)
	}()
}

// answer hands ev, the venue's answer to request id, to its caller
// (deliver); other: ev names another order than the request's, so it is
// none of the request's.
func (o *orders) answer(id uint64, ev *schema.CanonicalEvent) (other error) {
	var a answer
	c := ev.ControlOrZero() // nil-safe: an event without a Control reads as a zero one
	switch {
	case ev.Type == schema.EventControl && c.Kind == schema.ControlVenueError:
		verr := &VenueError{RequestID: id, Code: c.Code, Msg: c.Reason, Status: o.refusal.status}
		if o.refusal.retryAfter > 0 {
			verr.RetryAfter = time.UnixMilli(o.refusal.retryAfter)
			if verr.Status == statusBanned || verr.Status == statusRateLimited {
				o.s.holdBan(verr)
			}
		}
		a.err = verr
		o.s.clockRefused(c.Code)
	case ev.Type == schema.EventControl:
		// A success without an order ({"status":200,"result":null}): the
		// user-data subscription's answer, or, to an order request, an
		// answer that does not say what became of the order.
		a.noOrder = true
	default:
		a.ack = Ack{RequestID: id, Symbol: ev.Symbol, Execution: ev.ExecOrZero()}
	}
	return o.deliver(id, a)
}

// sole is the request, an order's or the user-data subscription, alone
// awaiting an answer on conn (no reconciliation query in flight there
// either), else 0: a refusal echoing no id answers it (venueOrders.sole
// tells the rule and its sources). Requests are counted on the connection
// they went out on: pending on pendConn's, graced (a rotation's grace) on
// the replaced connection, late and lateGraced each on its own, the user-data
// subscription on udsConn (a rotation's new connection's, before the
// switch), the queries in flight on theirs (queried) — the other
// connection's requests cannot be answered on conn.
func (o *orders) sole(conn uint64) uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.queried[conn] != 0 {
		return 0
	}
	var id uint64
	n := 0
	if conn == o.pendConn {
		for i := range o.pending {
			id, n = i, n+1
		}
	}
	if conn == o.replaced {
		for i := range o.graced {
			id, n = i, n+1
		}
	}
	for _, late := range [...]map[uint64]pendingOrder{o.late, o.lateGraced} {
		for _, p := range late {
			if p.conn == conn {
				n++
			}
		}
	}
	if o.udsWait != 0 && conn == o.udsConn {
		id, n = o.udsWait, n+1
	}
	if n != 1 {
		return 0
	}
	return id
}

// deliver hands the answer to request id to its caller, or, for the
// user-data subscription, to the state board; ids nobody waits for
// (answered already, given up, unknown) are ignored. An ack naming
// another order than the request's (pendingOrder.check) is ErrBadAnswer
// (errOtherOrder) to the caller, and other says so.
func (o *orders) deliver(id uint64, a answer) (other error) {
	o.mu.Lock()
	if id == o.udsID && o.udsConn == o.prepConn && o.prepDone != nil {
		o.stopUserDataWait()
		err := a.err
		if venueCode(err) == codeSubscriptionActive {
			err = nil
		}
		if err != nil {
			o.udsRefused++
		}
		o.prepOK = err == nil
		done := o.prepDone
		o.prepDone = nil
		o.mu.Unlock()
		done <- err // capacity 1: prepare's, once
		return nil
	}
	if id == o.udsID {
		o.stopUserDataWait()
		o.answeredLateLocked(id) // given up (userDataUnanswered), answered late
		conn, tries, until := o.udsConn, 0, o.refusal.retryAfter
		renews := 0
		switch venueCode(a.err) {
		case codeSubscriptionActive:
			a.err = nil // an earlier subscription on conn, its answer lost, is in effect
		case codeMaxSubscriptionIDs:
			o.renews++
			renews = o.renews
		}
		if a.err != nil {
			o.udsRefused++
		}
		if a.err == nil {
			o.readyConn, o.udsTries, o.renews = conn, 0, 0
		} else if passing(a.err) {
			o.udsTries++
			tries = o.udsTries
		}
		o.mu.Unlock()
		o.s.state.update(func(b *stateBoard) {
			b.ordersReady = a.err == nil && b.ordersState == schema.ConnConnected
			b.setUserDataErr(a.err)
		})
		switch {
		case renews > 0:
			o.renewLater(conn, renews)
		case tries > 0:
			o.resubscribeLater(conn, tries, until)
		}
		if a.err == nil {
			o.rec.subscribed(conn) // after a window without the stream: reconcile
		}
		return nil
	}
	if a.noOrder {
		a.err = fmt.Errorf("%w: %w", ErrBadAnswer, errNoOrder)
	}
	p, ok := o.pending[id]
	delete(o.pending, id)
	if g, graced := o.graced[id]; graced && !ok {
		p, ok = g, true
		delete(o.graced, id)
	}
	if !ok {
		p = o.late[id]
		if l, late := o.lateGraced[id]; late {
			p = l
		}
	}
	o.answeredLateLocked(id)
	if ok {
		o.answered++
		o.settleLocked()
	}
	o.mu.Unlock()
	a, other = p.check(id, a)
	if ok {
		p.ch <- a // capacity 1, one answer per id
	}
	return other
}

// onEvent follows the connection: on every new connection the user-data
// subscription is signed anew; a lost connection fails the requests
// waiting for an answer. It acts on the client's state now, not on the
// event's: events may lag behind the connection, and a full event queue
// drops some (wsclient Options.OnEvent) — whatever is delivered after a
// drop finds the connection the dropped event told of, so a session whose
// host was slow still subscribes on the connection that is up.
func (o *orders) onEvent(e wsclient.Event) {
	s := o.s
	st := o.client.State()
	conn := o.client.Stats().ConnID
	// Rotating (retire): the old connection still answers until the switch.
	up := (st == schema.ConnConnected || st == schema.ConnRotating) && conn != 0
	if !up {
		conn = 0
	}
	o.mu.Lock()
	changed := e.State != o.last
	o.last = e.State
	wasConn := o.upConn // 0 when not up
	o.upConn = conn
	o.mu.Unlock()
	if changed {
		s.publishState(e)
	}
	lost := wasConn != 0 && conn != wasConn
	fresh := conn != 0 && conn != wasConn
	o.mu.Lock()
	prepared := fresh && o.prepOK && o.prepConn == conn // a rotation's switch: subscribed already (prepare)
	if fresh {
		o.prepConn, o.prepOK = 0, false
	}
	o.mu.Unlock()
	if conn != 0 && conn == wasConn && e.State == schema.ConnConnected && e.Reason == wsclient.ReasonRotation &&
		e.Err != nil && !errors.Is(e.Err, wsclient.ErrRotationUnaligned) {
		o.rotationFailed(conn)
	}
	if lost || fresh {
		s.state.update(func(b *stateBoard) {
			b.ordersState = st
			b.ordersReady = false
			b.setUserDataErr(nil)
		})
	}
	if lost || fresh {
		o.age(conn)
	}
	if lost {
		if !prepared { // (a prepared switch leaves no window without the user data)
			o.rec.lost()
		}
		switch {
		case st == schema.ConnClosed, s.closing.Load(): // Close took the connection down
			o.failPending(0, ErrClosed)
		case prepared:
			o.grace(wasConn)
		default:
			o.failPending(wasConn, ErrDisconnected)
		}
	}
	switch {
	case prepared:
		o.mu.Lock()
		o.udsEnds, o.readyConn, o.retired, o.udsTries, o.renews = 0, conn, 0, 0, 0
		o.mu.Unlock()
		s.state.update(func(b *stateBoard) { b.ordersReady = b.ordersState == schema.ConnConnected })
		// A report the venue sent on the old connection before the new
		// one's subscription took effect, still in transit at the switch,
		// was closed away with it: a pass asks the venue about the open
		// orders (its repeats of what was delivered are dropped).
		o.rec.subscribed(conn)
	case fresh:
		o.mu.Lock()
		o.udsEnds = 0
		o.mu.Unlock()
		o.subscribeUserData(conn, nil)
	}
	s.onEvent(Conn{Role: RoleOrders}, e)
}

// subscribeUserData signs userDataStream.subscribe.signature with the
// venue's time now (the clock offset measured again first) and sends it on
// the new connection, conn. When the write fails the connection is gone
// (or already replaced: these events may lag), and the next one subscribes
// again.
func (o *orders) subscribeUserData(conn uint64, write func(context.Context, []byte) error) {
	s := o.s
	// Bounded (on Client.Clock), and given up at once by Close, which
	// waits for this connection's events.
	ctx, end := restDeadline(s.dying, s.cfg.Client.Clock, s.cfg.RESTTimeout)
	defer func() { _ = end(nil) }()
	if !s.cfg.NoClockSync {
		if err := s.clock.sync(ctx, s.cfg.HTTPClient, schema.VenueBinance, s.cfg.Endpoints.REST); err != nil && s.cfg.Logger != nil {
			s.cfg.Logger.Warn("session: clock offset not measured; keeping the last one", "venue", string(schema.VenueBinance), "err", err)
		}
	}
	if s.dying.Err() != nil {
		return // Close has begun
	}
	ts := s.clock.venueNow()
	o.mu.Lock()
	if conn < o.udsConn { // a newer connection has subscribed already
		o.mu.Unlock()
		return
	}
	o.nextID++
	id := o.nextID
	o.udsID, o.udsTS, o.udsConn = id, ts.UnixMilli(), conn
	o.udsSent++
	o.awaitUserData(conn, id)
	o.mu.Unlock()
	msg, err := o.enc.AppendUserDataSubscribe(nil, id, ts)
	if err != nil {
		o.mu.Lock()
		if o.udsWait == id {
			o.stopUserDataWait() // nothing sent: no answer to await
		}
		o.mu.Unlock()
		s.state.update(func(b *stateBoard) { b.setUserDataErr(err) })
		return
	}
	if write == nil {
		write = func(ctx context.Context, msg []byte) error { return o.client.WriteConn(ctx, conn, msg) }
	}
	_ = write(ctx, msg)
}

// awaitUserData arms the answer deadline of user-data subscription id,
// sent on conn, in place of the previous one's (under o.mu): unanswered
// answerTimeout on Client.Clock, it is userDataUnanswered. An answer
// stops it.
func (o *orders) awaitUserData(conn, id uint64) {
	o.udsWait = id
	o.udsDue.arm(answerTimeout, func(uint64) { o.userDataUnanswered(conn, id) })
}

// stopUserDataWait stops the deadline armed, if any (under o.mu).
func (o *orders) stopUserDataWait() {
	o.udsDue.disarm()
	o.udsWait = 0
}

// userDataUnanswered: user-data subscription id, sent on conn, went
// unanswered answerTimeout (a lost answer, one echoing another id, a
// venue stuck). Without it orders stayed never ready and WaitConnected
// never returned. As the private venues' handshake (private.noAnswer):
// WaitConnected reports a LoginError (Step "subscribe", Channel
// "userDataStream", Attempts the refusals in a row) wrapping ErrNoAnswer,
// and the subscription is signed again on conn after the backoff
// (resubscribeLater), unless an answer to id comes meanwhile (taken as
// ever: a late acceptance makes orders ready, and the retry is not sent)
// or conn is replaced (the new connection subscribes by itself).
func (o *orders) userDataUnanswered(conn, id uint64) {
	o.mu.Lock()
	if o.udsWait != id || o.udsConn != conn {
		o.mu.Unlock()
		return // answered, or a newer subscription awaited
	}
	if conn == o.prepConn && o.prepDone != nil { // a rotation's new connection: the rotation fails (prepare)
		o.udsWait = 0
		o.udsRefused++
		done := o.prepDone
		o.prepDone = nil
		o.mu.Unlock()
		done <- &LoginError{Venue: schema.VenueBinance, Step: "subscribe", Channel: "userDataStream", Attempts: 1, Err: ErrNoAnswer}
		return
	}
	o.udsWait = 0
	o.lateLocked(id, pendingOrder{conn: conn}) // its answer may still come: an id-less refusal on conn may be it (sole)
	o.udsRefused++
	o.udsTries++
	tries := o.udsTries
	o.mu.Unlock()
	if o.client.Stats().ConnID != conn {
		return // replaced: the new connection subscribes by itself
	}
	o.s.hookUnanswered(conn)
	err := &LoginError{Venue: schema.VenueBinance, Step: "subscribe", Channel: "userDataStream", Attempts: tries, Err: ErrNoAnswer}
	o.s.state.update(func(b *stateBoard) {
		b.ordersReady = false
		b.setUserDataErr(err)
	})
	o.mu.Lock()
	late := o.readyConn == conn
	o.mu.Unlock()
	if late {
		// Its answer came (deliver) after the deadline, its board update
		// before this one: the acceptance stands. Else the refusal stayed
		// on the board, orders never ready and WaitOrdersReady returning
		// it, and the retry, seeing the connection ready, not sent.
		o.s.state.update(func(b *stateBoard) {
			if b.userDataErr == err {
				b.setUserDataErr(nil)
				b.ordersReady = b.ordersState == schema.ConnConnected
			}
		})
		return
	}
	o.resubscribeLater(conn, tries, 0)
}

// Binance's answers to userDataStream.subscribe.signature that are not
// the subscription's refusal (spot "Error codes"; WS-API "User Data
// Stream requests": "You can have only one active subscription for a
// given account on a given connection", and a connection "can handle a
// maximum of 65,535 total subscriptions over its lifetime ... you ... must
// re-establish a new connection"):
//
//   - -2035 SUBSCRIPTION_ACTIVE, "User Data Stream subscription already
//     active": an earlier subscription on the connection, whose answer was
//     lost (userDataUnanswered signed it again), is in effect: its ack.
//   - -2042 MAXIMUM_SUBSCRIPTION_IDS, "Maximum subscription ID reached for
//     this connection": no subscription will be taken on it again; the
//     connection is replaced (renewLater: at once, or after a backoff
//     when -2042 came in a row), not signed again on a backoff for good.
const (
	codeSubscriptionActive = -2035
	codeMaxSubscriptionIDs = -2042
)

// renewLater replaces conn, whose user-data subscription the venue
// refused with -2042 (codeMaxSubscriptionIDs), the renews-th such refusal
// in a row (no subscription accepted between): the first at once (retire),
// a later one after a backoff on Client.Clock (1 s, doubling, at most
// 30 s) — a venue or proxy that refuses a fresh connection's first
// subscription so would otherwise have the session dial a connection
// as fast as it dials, and Binance limits the connections an IP
// opens (WebSocket API "Rate limits": 300 per 5 minutes). Unless the
// session closes or conn is replaced first. It runs on the reader; the
// goroutine is the session's (Close waits for it).
func (o *orders) renewLater(conn uint64, renews int) {
	const why = "the venue takes no more user-data subscriptions on the order connection"
	if renews <= 1 {
		o.retire(conn, why)
		return
	}
	s := o.s
	t := s.cfg.Client.Clock.NewTimer(min(time.Second<<min(renews-2, 5), 30*time.Second))
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer t.Stop()
		select {
		case <-t.C():
		case <-s.dying.Done():
			return
		}
		if o.client.Stats().ConnID != conn || s.closing.Load() {
			return // replaced meanwhile (the new connection subscribes by itself), or closing
		}
		o.retire(conn, why)
	}()
}

// venueCode is the venue's code of err, a *VenueError, else 0.
func venueCode(err error) int64 {
	var verr *VenueError
	if errors.As(err, &verr) {
		return verr.Code
	}
	return 0
}

// passing reports whether a refused user-data subscription may be
// accepted when signed again: a timestamp outside recvWindow (-1021, the
// clock offset is measured again first), the venue busy or overloaded
// (-1000, -1001, -1003, -1007, -1008), an answer that could not be read.
// A bad key or signature is not.
func passing(err error) bool {
	var verr *VenueError
	if errors.As(err, &verr) {
		switch verr.Code {
		case -1021, -1000, -1001, -1003, -1007, -1008:
			return true
		}
		return false
	}
	return errors.Is(err, ErrBadAnswer)
}

// resubscribeLater signs the user-data subscription again on conn after
// a backoff (1 s, doubling, at most 30 s) — or, when the refusal said when
// the venue takes requests again (retryAfter, Unix ms by the venue's
// clock: a 429, or a 418 IP ban of minutes to days), not before then:
// Binance bans an IP that keeps sending after a 429, and lengthens the ban
// of one that keeps sending during it (WS-API "Rate limits") — unless the
// session closes or conn is replaced first (the new connection subscribes
// by itself). The goroutine is the session's: Close waits for it.
func (o *orders) resubscribeLater(conn uint64, tries int, retryAfter int64) {
	s := o.s
	d := min(time.Second<<min(tries-1, 5), 30*time.Second)
	if retryAfter > 0 {
		d = max(d, time.UnixMilli(retryAfter).Sub(s.clock.venueNow()))
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		if s.sleep(d) != nil || o.client.Stats().ConnID != conn {
			return
		}
		o.mu.Lock()
		ready := o.readyConn == conn
		o.mu.Unlock()
		if ready {
			return // a late acceptance came meanwhile: Binance takes one subscription an account a connection
		}
		o.subscribeUserData(conn, nil)
	}()
}

// staleReady is called when the connection orders were ready on is no
// longer the client's current one, before the session has heard of the
// change: orders wait again, unless a newer connection is ready already.
func (o *orders) staleReady(conn uint64) { o.s.unready(&o.mu, &o.readyConn, conn) }

// unready clears *ready, the connection orders go out on, when it is
// still conn (under mu), and then makes orders wait for the next ready
// connection.
func (s *Session) unready(mu *sync.Mutex, ready *uint64, conn uint64) {
	mu.Lock()
	stale := *ready == conn
	if stale {
		*ready = 0
	}
	mu.Unlock()
	if stale {
		s.state.update(func(b *stateBoard) { b.ordersReady = false })
	}
}

// ordersStateChanged tells the subscribers and the waiters that the
// private channels' connection p changed state: not ready until it has
// subscribed again, and its refusal, of the connection before, no longer
// on the board (Bybit's trade connection's stays: clearBoardErr).
func (s *Session) ordersStateChanged(e wsclient.Event, p *private) {
	s.publishState(e)
	s.state.update(func(b *stateBoard) {
		b.ordersState = e.State
		b.ordersReady = false
		p.clearBoardErr(b)
	})
}

// failPending ends every wait with err: the connection lost took their
// answers with it (the requests pending went out on it alone, pendConn).
// The requests given up on it (late) are forgotten, not those given up on
// another connection (a rotation's new one, one up before the loss's
// event came), whose answers may still come there (sole counts them);
// lost 0 forgets them all (Close).
func (o *orders) failPending(lost uint64, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	forgetLate(o.late, lost)
	o.failLocked(o.pending, err)
	o.endGraceLocked(err)
	o.settleLocked()
}

// failLocked ends the waits of m with err (under o.mu).
func (o *orders) failLocked(m map[uint64]pendingOrder, err error) {
	for id, p := range m {
		delete(m, id)
		o.lostInFly++
		p.ch <- answer{ack: Ack{RequestID: id}, err: err}
	}
}

// endGraceLocked ends a replaced connection's grace: its requests still
// waiting end with err (under o.mu).
func (o *orders) endGraceLocked(err error) {
	if o.graceEnd != nil {
		o.graceEnd.Stop()
		o.graceEnd = nil
	}
	o.failLocked(o.graced, err)
	clear(o.lateGraced) // (their answers went with the replaced connection)
}

// forgetLate deletes from late the requests given up on conn (every one
// when conn is 0): their answers went with it.
func forgetLate(late map[uint64]pendingOrder, conn uint64) {
	for id, p := range late {
		if conn == 0 || p.conn == conn {
			delete(late, id)
		}
	}
}

// answeredLateLocked: id, given up by its caller, was answered (under o.mu).
func (o *orders) answeredLateLocked(id uint64) {
	delete(o.late, id)
	delete(o.lateGraced, id)
}

// grace is told of a rotation's prepared switch: every request pending
// went out on the replaced connection (orders made during the rotation
// wait for the switch), which wsclient keeps open RotationOverlap
// (prepareOverlap) on the Clock after it, delivering its answers
// (Options.IsData). They wait that long more for them rather than end
// with ErrDisconnected at the switch: a request the venue answered late
// (after drainBound, which bounds the switch's own wait) gets its answer;
// then, unanswered, they end as at any loss. A later loss or switch ends
// the grace first. old's stream end and close notices, delivered
// meanwhile, are its own, not the new connection's (Publish). The
// requests on old given up by their callers (late) may be answered in
// the grace too: an id-less refusal may be theirs, so they count among
// those awaiting an answer (sole) until it ends.
func (o *orders) grace(old uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.replaced = old
	o.endGraceLocked(ErrDisconnected)
	if o.replacedGone == old { // (replacedEnded came first)
		forgetLate(o.late, old)
		o.failLocked(o.pending, ErrDisconnected)
		o.settleLocked()
		return
	}
	for id, p := range o.late { // old's aside (o.lateGraced emptied above); another connection's stay
		if p.conn == old {
			if o.lateGraced == nil {
				o.lateGraced = map[uint64]pendingOrder{}
			}
			o.lateGraced[id] = p
			delete(o.late, id)
		}
	}
	if len(o.pending) == 0 && len(o.lateGraced) == 0 {
		return
	}
	o.graced, o.pending = o.pending, o.graced // (o.graced emptied above)
	if o.pending == nil {
		o.pending = map[uint64]pendingOrder{}
	}
	o.graceGen++
	gen := o.graceGen
	o.graceEnd = o.s.cfg.Client.Clock.AfterFunc(prepareOverlap, func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.graceGen == gen { // (not a later switch's grace)
			o.endGraceLocked(ErrDisconnected)
		}
	})
	o.settleLocked()
}

// replacedEnded is wsclient's Options.OnReplacedEnd: old, the connection
// a rotation replaced, ended before its grace ran out (the venue closed
// it, it was lost): the requests waiting in its grace end at once with
// ErrDisconnected ("lost while waiting, outcome unknown"; ErrClosed
// while the session closes), not when the grace's timer fires. It may
// come before the switch's Connected event
// (wsclient calls it on its retiring goroutine): grace then ends them as
// it starts. An earlier connection's end (the next switch ended its
// grace already) ends nothing.
func (o *orders) replacedEnded(old uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.replacedGone = old
	if o.replaced != old {
		return
	}
	err := ErrDisconnected
	if o.s.closing.Load() {
		err = ErrClosed
	}
	o.graceGen++ // (a timer that fires meanwhile ends nothing more)
	o.endGraceLocked(err)
	o.settleLocked()
}

// idleAll returns a channel closed once no request awaits its answer:
// a rotation's switch waits for the answers due on the old connection
// (orders made during the rotation wait for the switch, so every request
// pending then is the old connection's).
func (o *orders) idleAll() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.idle == nil {
		o.idle = make(chan struct{})
	}
	ch := o.idle
	o.settleLocked()
	return ch
}

// settleLocked closes idle once no request awaits its answer (under o.mu).
func (o *orders) settleLocked() {
	if o.idle != nil && len(o.pending) == 0 {
		close(o.idle)
		o.idle = nil
	}
}

// forget stops the wait for id's answer; id may still be answered (its
// caller gave up), so it counts among the requests an id-less refusal may
// answer (sole) until its answer comes or the connection goes: late, at
// most maxLate, the oldest-issued dropped past it.
func (o *orders) forget(id uint64, written bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.pending[id]
	if !ok {
		return
	}
	delete(o.pending, id)
	o.settleLocked()
	if written {
		o.lateLocked(id, p)
	}
}

// lateLocked counts id, a request given up by its caller (an order's, p;
// a reconciliation query's, binanceQueries.query, or the user-data
// subscription's, naming no order) whose answer may still come, among
// those an id-less refusal may answer (sole) — at most maxLate, the
// oldest-issued dropped past it (under o.mu). Its late answer is checked
// against p (pendingOrder.check).
func (o *orders) lateLocked(id uint64, p pendingOrder) {
	if o.late == nil {
		o.late = map[uint64]pendingOrder{}
	}
	if len(o.late) >= maxLate {
		oldest := id
		for l := range o.late {
			oldest = min(oldest, l)
		}
		delete(o.late, oldest)
	}
	o.late[id] = p
}

// publishState tells the subscribers of an order-connection state change:
// an schema.EventConnState whose Control.Reason starts with "orders: " and
// whose Control.Code is the connection id. It does not go through the
// books: the order connection carries no market data.
func (s *Session) publishState(e wsclient.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ev, err := s.pools.Events.Get(ctx)
	if err != nil {
		return
	}
	ev.Venue = s.spec.venue
	ev.Type = schema.EventConnState
	ev.IngestTS = e.Stamp()
	*ev.UseControl() = schema.Control{Kind: schema.ControlConnState, State: e.State, Code: int64(e.ConnID),
		Reason: "orders: " + e.Reason.String()}
	_ = s.disp.Publish(ctx, ev)
}

// Place sends an order (req.Action must be schema.ActionPlace, the zero
// value) and returns the venue's answer: an [Ack] when it accepted the
// order, a [*VenueError] with the venue's code when it refused it —
// wrapped with its kind where the venue's code says which (errors.Is):
// [ErrRateLimited] (not acted on; send again later), [ErrMaybeSent] (the
// venue does not know whether it acted: as [ErrDisconnected], the order
// is looked up by its client order id after the next reconnect) or, for
// a cancel or amend, [ErrOrderNotOpen] (filled, canceled or unknown
// already: a cancel that raced a fill).
//
// It waits until the order connection is connected and the user-data
// stream subscribed, so that no execution report of the order can be
// missed; ctx bounds the whole call. Requests go out one at a time, each
// signed with the venue's time when its turn to be written comes (Binance
// measures recvWindow from that timestamp to its receipt, WS-API "Timing
// security"), so waiting behind other calls does not age it; a call whose
// ctx ends while it waits for its turn sends nothing. The request is validated first (its
// fields, then the instrument's rules, see [Session.Rules]) and never sent
// when invalid. req stays the caller's: it may be Put as soon as Place
// returns.
//
// Errors: [ErrNoCredentials]; a validation error; ctx's error (wrapped)
// when the connection was not ready or the venue did not answer in time
// (with [ErrNotSent] too when ctx had ended before the request was
// written: a call with an ended ctx never sends; so does every error of
// the wait for the connection — ctx's, [ErrClosed], a refused user-data
// subscription's [*VenueError]);
// [ErrClosed] when Close closed the connection under the write;
// [ErrBadAnswer] when the venue answered with something that could not be
// read; [ErrNoAnswer] (wrapped, with the request id in the Ack) when the
// venue did not answer within Config.OrderAnswerTimeout (30 s by default,
// on Config.Client.Clock) on a connection that stayed up — the outcome is
// unknown, as with ErrDisconnected, and a place is looked up by its
// client order id in the next reconciliation pass; [ErrDisconnected] when the connection was lost while waiting or
// while the request was written (a failed write may have reached the
// venue: it is never ErrNotSent), in which case the venue may or may not
// have the order: its execution reports tell, after the reconnect.
// The request id is in the returned Ack whenever one was assigned.
//
// Sent again with the same ClientOrderID after such an unknown outcome, a
// place the venue refuses as a duplicate of an order it has under that id
// (Binance -2010 "Duplicate order sent.", OKX sCode 51016, Bybit 110072 or
// 170141; Kraken, whose error list does not name that refusal: one whose
// text says "duplicate", or any refusal of a place whose cl_ord_id was of
// one of the latest 256 places of unknown outcome) returns that order as
// its Ack (its VenueOrderID, status and fields from the venue's order
// query, by the client order id) when the order is of req's symbol, side
// and kind (market or priced, conditional or not), with req's quantity,
// price and stop price where both give one (see reconciler.duplicateOf):
// the first reached the venue, and the order is the caller's (followed as
// the session's own; its fills and end the stream did not deliver are
// published, Reconciled, before the Ack returns). The refusal is still
// published on the dispatcher. With another order under the id, or a
// lookup that fails, or without reconciliation (OKX, Bybit without
// Endpoints.REST), the refusal is returned.
//
// OKX, Bybit and Kraken: the same, "subscribed" meaning the venue's
// private connection (and Bybit's trade connection) logged in and its
// private channels subscribed; their orders need Endpoints.REST for the
// instrument rules. See the package doc, "Orders by venue".
func (s *Session) Place(ctx context.Context, req *schema.OrderRequest) (Ack, error) {
	if ctx == nil {
		return Ack{}, pool.ErrNilContext
	}
	if req.Action != schema.ActionPlace {
		return Ack{}, fmt.Errorf("%w: Place takes Action place, got %s", ErrConfig, req.Action)
	}
	return s.send(ctx, req)
}

// Cancel cancels the order req names (VenueOrderID or OrigClientOrderID,
// and Symbol): it sets req.Action to schema.ActionCancel and works as
// [Session.Place] does. A cancel the venue refuses (already filled,
// unknown: Binance -2011) is a [*VenueError].
func (s *Session) Cancel(ctx context.Context, req *schema.OrderRequest) (Ack, error) {
	if ctx == nil {
		return Ack{}, pool.ErrNilContext
	}
	req.Action = schema.ActionCancel
	return s.send(ctx, req)
}

// orderLane is a connection that takes order requests: Binance's WS API
// ([orders]) or a Config.Key venue's private or trade connection
// ([venueOrders]). [Session.send] drives either the same way.
type orderLane interface {
	// check refuses, before any wait, what the venue cannot express.
	check(req *schema.OrderRequest) error
	// next takes a new request id and the connection requests go out on
	// now (0: none).
	next() (id, conn uint64)
	// encode is the request for req with id (signed, stamped with the
	// venue's time now where the venue wants it).
	encode(id uint64, req *schema.OrderRequest) ([]byte, error)
	// await registers the wait for the answer to id, to be sent on conn,
	// if conn is still the connection requests go out on (ok): checked
	// and registered at once, so that a rotation's drain (idleExcept,
	// idleAll), which follows the lane's stop (conn 0), either waits for
	// it or finds it unregistered — never sees no request owed on the old
	// connection while one picked it is about to be written there, its
	// answer then lost at the switch.
	await(id, conn uint64, req *schema.OrderRequest) (ch chan answer, ok bool)
	writeConn(ctx context.Context, conn uint64, msg []byte) error
	// forget ends the wait for id's answer; written: the request may have
	// reached the venue, so its late answer (or an id-less refusal that
	// may be its) is still expected, and id counts among those an id-less
	// refusal may answer; not written (refused before a byte went out):
	// no answer can come, and id counts nowhere.
	forget(id uint64, written bool)
	// staleReady: conn is no longer the client's current connection.
	staleReady(conn uint64)
	// sentOne and timedOutOne count.
	sentOne()
	timedOutOne()
	// unanswered: a request written on conn went unanswered for
	// Config.OrderAnswerTimeout. Its answer may still come, so an id-less
	// refusal can no longer be paired on conn (sole) for as long as conn
	// lives; conn, still the current connection, is replaced
	// make-before-break (a rotation, orders held until its switch), which
	// ends that doubt and a connection that stopped answering with it.
	unanswered(conn uint64)
	// outcome follows a request that was sent, whatever came of it.
	outcome(req *schema.OrderRequest, err error)
}

// lane is the connection the session's orders go on, or why there is none.
func (s *Session) lane() (orderLane, error) {
	if s.orders != nil {
		return s.orders, nil
	}
	return s.venueLane()
}

func (s *Session) send(ctx context.Context, req *schema.OrderRequest) (Ack, error) {
	lane, err := s.lane()
	if err != nil {
		return Ack{}, err
	}
	if req.Venue != "" && req.Venue != s.spec.venue {
		return Ack{}, fmt.Errorf("%w: the session trades on %s, the request names %s", ErrConfig, s.spec.venue, req.Venue)
	}
	if err := req.Validate(); err != nil {
		return Ack{}, err
	}
	if err := s.checkRules(req); err != nil {
		return Ack{}, err
	}
	if err := lane.check(req); err != nil {
		return Ack{}, err
	}
	if err := s.banned(req); err != nil {
		return Ack{}, err
	}
	if err := s.clock.waitResync(ctx); err != nil {
		return Ack{}, fmt.Errorf("%w: waiting for the clock offset measured again after a refusal for the timestamp: %w", ErrNotSent, err)
	}
	for {
		if err := s.waitOrdersReady(ctx); err != nil {
			// Nothing was written: ErrNotSent, so that neither the host nor
			// the reconciliation takes it for an order of unknown outcome.
			return Ack{}, notReady(err)
		}
		// A caller that has given up must not have an order working at the
		// venue that it was told failed: an ended ctx sends nothing. (The
		// wait above returns at once, without looking at ctx, when ready.)
		if err := ctx.Err(); err != nil {
			return Ack{}, fmt.Errorf("%w: %w", ErrNotSent, err)
		}
		if err := s.rate.wait(ctx, req); err != nil {
			return Ack{}, fmt.Errorf("%w: waiting for the venue's order rate: %w", ErrNotSent, err)
		}
		if ack, sent, err := s.sendOnce(ctx, lane, req); sent {
			err = s.refusalKind(err)
			if found, ok := s.duplicateOf(ctx, lane, req, err); ok {
				ack, err = found, nil
			}
			lane.outcome(req, err)
			return ack, err
		}
	}
}

// notReady is an order call's error when the order connection is not
// ready (nothing written): ErrNotSent wrapping why. When why is the
// handshake's request unanswered (a *LoginError wrapping ErrNoAnswer,
// waiting out its retry's backoff), that is said in words but not
// wrapped: an order call's ErrNoAnswer means an order written and
// unanswered (outcome unknown, looked up), which this one is not.
func notReady(why error) error {
	if errors.Is(why, ErrNoAnswer) {
		return fmt.Errorf("%w: order connection not ready: its login or subscription went unanswered (%v)", ErrNotSent, why)
	}
	return fmt.Errorf("%w: order connection not ready: %w", ErrNotSent, why)
}

// duplicateOf: a place the venue refused as a duplicate of an order it
// has under the same client order id is that order (see
// reconciler.duplicateOf). Without reconciliation the refusal stands.
func (s *Session) duplicateOf(ctx context.Context, lane orderLane, req *schema.OrderRequest, err error) (Ack, bool) {
	var verr *VenueError
	rec := s.reconciler()
	if rec == nil || !errors.As(err, &verr) {
		return Ack{}, false
	}
	_, conn := lane.next()
	if conn == 0 {
		return Ack{}, false
	}
	return rec.duplicateOf(ctx, conn, req, verr)
}

// sendOnce encodes req (the last read of it) with a new id and writes it
// on the connection the lane is ready on — never on a newer one not ready
// yet (Binance: user data not subscribed, so the venue would send the
// order's execution reports to no one; OKX, Bybit: not logged in, so the
// venue would refuse it). sent is false when that connection is gone:
// nothing was written, and the caller waits for the next.
func (s *Session) sendOnce(ctx context.Context, lane orderLane, req *schema.OrderRequest) (ack Ack, sent bool, err error) {
	id, conn := lane.next()
	if conn == 0 {
		lane.staleReady(0)
		return Ack{}, false, nil
	}
	s.hookPicked(req, conn)
	// Stamped and written in turn: Binance measures recvWindow from the
	// request's timestamp to its receipt, so a request is stamped only
	// when the ones ahead of it are written. A caller whose ctx ends
	// while it waits for its turn sends nothing.
	select {
	case s.sendTurn <- struct{}{}:
	case <-ctx.Done():
		return Ack{}, true, fmt.Errorf("%w: %w", ErrNotSent, ctx.Err())
	}
	msg, err := lane.encode(id, req)
	if err != nil {
		<-s.sendTurn
		return Ack{}, true, err
	}
	ch, ok := lane.await(id, conn, req)
	s.hookRegistered(req, conn, ok)
	if !ok {
		// The lane stopped since the pick (a rotation began: orders wait
		// for its switch) or moved on: tried again on the next connection.
		<-s.sendTurn
		lane.staleReady(conn)
		return Ack{}, false, nil
	}
	// ctx bounds only the wait for the client's turn: a write begun is
	// written to the end, bounded by the client's WriteTimeout (wsclient
	// never closes the connection for a caller's ctx).
	err = lane.writeConn(ctx, conn, msg)
	<-s.sendTurn
	switch {
	case err == nil:
		lane.sentOne()
	case errors.Is(err, wsclient.ErrConnChanged), errors.Is(err, wsclient.ErrNotConnected):
		// Refused before a byte was written: tried again on the next
		// connection.
		lane.forget(id, false)
		lane.staleReady(conn)
		return Ack{}, false, nil
	case errors.Is(err, wsclient.ErrNotSent):
		// Nothing written (ctx ended while the write waited for its turn,
		// the client closed, a message not UTF-8): ErrNotSent, so that
		// neither the host nor the reconciliation takes it for an order
		// of unknown outcome.
		lane.forget(id, false)
		if s.closing.Load() || errors.Is(err, wsclient.ErrClosed) {
			return Ack{}, true, fmt.Errorf("%w: %w: %w", ErrNotSent, ErrClosed, err)
		}
		return Ack{}, true, fmt.Errorf("%w: %w", ErrNotSent, err)
	case s.closing.Load(): // Close closed the connection under the write
		lane.forget(id, true)
		return Ack{RequestID: id}, true, fmt.Errorf("%w (the write failed; the venue may have the request): %w", ErrClosed, err)
	}
	// A write that failed part way may still have reached the venue (a
	// venue that read the request and closed the connection makes the
	// write fail here): not ErrNotSent, which would tell the host and the
	// reconciliation that no order exists. coder/websocket closes a
	// connection whose write failed, so the wait ends with the loss
	// (ErrDisconnected: outcome unknown), with ctx, or unanswered
	// Config.OrderAnswerTimeout on Client.Clock (ErrNoAnswer: outcome
	// unknown, as for ctx).
	var dueC <-chan time.Time
	if d := s.cfg.OrderAnswerTimeout; d > 0 {
		due := s.cfg.Client.Clock.NewTimer(d)
		defer due.Stop()
		dueC = due.C()
	}
	var why error
	select {
	case a := <-ch:
		return a.ack, true, a.err
	case <-ctx.Done():
		why = ctx.Err()
	case <-dueC:
		why = fmt.Errorf("%w within %v", ErrNoAnswer, s.cfg.OrderAnswerTimeout)
	}
	lane.forget(id, true)
	select {
	case a := <-ch: // answered meanwhile
		return a.ack, true, a.err
	default:
	}
	lane.timedOutOne()
	if errors.Is(why, ErrNoAnswer) {
		lane.unanswered(conn)
	}
	return Ack{RequestID: id}, true, fmt.Errorf("session: no answer to request %d: %w", id, why)
}

// The Binance WS API as an orderLane.

// check: what the WS API cannot express (reduce-only, a post-only IOC, a
// client order id outside Binance's alphabet, …) fails before any wait,
// as the other venues' orders do.
func (o *orders) check(req *schema.OrderRequest) error { return o.enc.Check(req) }

func (o *orders) next() (id, conn uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.nextID++
	return o.nextID, o.readyConn
}

func (o *orders) encode(id uint64, req *schema.OrderRequest) ([]byte, error) {
	return o.enc.AppendRequest(nil, id, req)
}

func (o *orders) await(id, conn uint64, req *schema.OrderRequest) (chan answer, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.readyConn != conn {
		return nil, false
	}
	p := newPendingOrder(conn, req)
	o.pending[id] = p
	o.pendConn = conn
	return p.ch, true
}

func (o *orders) writeConn(ctx context.Context, conn uint64, msg []byte) error {
	return o.client.WriteConn(ctx, conn, msg)
}

func (o *orders) sentOne()     { o.mu.Lock(); o.sent++; o.mu.Unlock() }
func (o *orders) timedOutOne() { o.mu.Lock(); o.timedOut++; o.mu.Unlock() }

func (o *orders) unanswered(conn uint64) {
	if o.client.Stats().ConnID == conn && !o.s.closing.Load() {
		o.retire(conn, "a request went unanswered on the order connection")
	}
}

// outcome: an order the venue may have is looked up after a reconnect.
func (o *orders) outcome(req *schema.OrderRequest, err error) { o.rec.outcome(req, err) }

// waitOrdersReady waits for the order connection and its user-data
// subscription.
func (s *Session) waitOrdersReady(ctx context.Context) error {
	return s.state.wait(ctx, func(b *stateBoard) (bool, error) {
		switch {
		case b.closed:
			return true, ErrClosed
		case b.userDataErr != nil:
			return true, b.userDataErr
		}
		return b.ordersReady, nil
	})
}

// prepare is the WS-API connection's wsclient Options.Prepare: before the
// switch of a rotation (retire: serverShutdown, ageOut at o.maxAge,
// -2042), it subscribes the user data on the new connection, id (signed
// with the venue's time then), and returns once the venue accepted it
// (-2035, active already, is acceptance) and the old connection has
// answered the requests in flight on it (awaitAnswers, at most
// drainBound after the call). Meanwhile the old connection
// delivers the reports and the answers of the requests sent before the
// rotation; orders made since wait (retire), and go on the new
// connection once the switch makes it ready (onEvent): the user-data
// stream is never down, yet a report sent on the old connection only
// (before the new subscription took effect) and still in transit at the
// switch is lost with it, so a reconciliation pass follows the switch
// (onEvent), as after a reconnect. A report sent
// on both connections is delivered once (fills: normalize's repeatFill
// and the reconciler; the rest: repeats). A refusal, or no answer within
// answerTimeout (a *LoginError wrapping ErrNoAnswer) or by ctx's end,
// fails the rotation: the old connection stays, orders go on it again
// (rotationFailed), its subscription the one in effect, and wsclient
// tries again after its backoff.
func (o *orders) prepare(ctx context.Context, id uint64, write func(context.Context, []byte) error) error {
	done := make(chan error, 1)
	o.mu.Lock()
	old := o.upConn
	prevID, prevTS, prevConn := o.udsID, o.udsTS, o.udsConn
	o.prepConn, o.prepDone, o.prepOK = id, done, false
	o.mu.Unlock()
	o.repeats.begin(old, id)
	due := o.s.cfg.Client.Clock.NewTimer(drainBound)
	defer due.Stop()
	o.subscribeUserData(id, write)
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
	}
	if err == nil && ctx.Err() == nil {
		err = awaitAnswers(ctx, o.idleAll(), due.C(), nil) // the answers due on the old connection first
		if err == nil {
			o.s.hookDrained(id)
		}
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // not ready in time: wsclient fails the rotation
	}
	if err != nil {
		o.mu.Lock()
		if o.prepConn == id {
			o.prepConn, o.prepDone, o.prepOK = 0, nil, false
		}
		if o.udsConn == id { // the old connection's subscription is the one in effect
			if o.udsWait == o.udsID {
				o.stopUserDataWait()
			}
			o.udsID, o.udsTS, o.udsConn = prevID, prevTS, prevConn
		}
		o.mu.Unlock()
	}
	return err
}
