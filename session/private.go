package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/internal/safejson"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Key is a venue's API key for the private connection of OKX, Bybit,
// Kraken or Coinbase (Binance's is Config.Credentials): one of [*OKXKey],
// [*BybitKey], [*KrakenKey], [*CoinbaseKey]. Keys never print their
// secret: every fmt verb shows the venue and the key's first characters.
type Key interface {
	venue() schema.Venue
	fmt.Stringer
}

// redacted is a key as it prints.
func redacted(v schema.Venue, apiKey string) string {
	if len(apiKey) > 4 {
		apiKey = apiKey[:4] + "…"
	}
	return string(v) + " key " + apiKey + " (secret redacted)"
}

// LoginError is the venue's refusal of the private connection's login or
// of its private subscriptions (Step "login" or "subscribe": Code and Msg
// are the venue's, as its answer gave them: OKX 60009 "Login failed",
// 60006 "Timestamp request expired", Bybit's ret_msg, Kraken's error,
// Coinbase's "authentication failure"), or a failure to make the
// credentials the subscription carries (Step "token": Kraken's
// GetWebSocketsToken; "sign": a key that cannot sign; Err says why).
// Bybit's trade connection (Endpoints.Trade) has steps of its own: "trade
// login" (its auth, refused with retCode and retMsg: 10004 invalid sign,
// …) and "trade sign".
// [Session.WaitConnected] returns it. The session tries again on the same
// connection after a capped exponential backoff (Config.Client's
// BackoffBase and BackoffCap, no faster), and on every new connection:
// never in a hot loop.
type LoginError struct {
	Venue schema.Venue
	Step  string
	// Channel is, for Step "subscribe", the subscription refused (OKX
	// "orders", "account", "positions"; Bybit "order", "execution",
	// "wallet", "position"; Kraken "executions", "balances";
	// Coinbase "user", "heartbeats"), and Attempts how many times in a
	// row the venue refused it on this connection.
	Channel  string
	Attempts int
	Code     int64
	Msg      string
	Err      error
}

// Error says what happened, and to which step (a subscription's with its
// channel): the venue's refusal with its code and message ("session: okx
// private login refused: code 60009: Login failed."), no answer within
// the deadline ("session: bybit private trade login: no answer from the
// venue", Err ErrNoAnswer), or the credentials not made ("session: kraken
// private token failed: " and Err).
func (e *LoginError) Error() string {
	s := "session: " + string(e.Venue) + " private " + e.Step
	if e.Channel != "" {
		s += " " + e.Channel
	}
	switch {
	case e.Code == 0 && e.Msg == "" && errors.Is(e.Err, ErrNoAnswer):
		return s + ": no answer from the venue"
	case e.Code == 0 && e.Msg == "" && e.Err != nil:
		return s + " failed: " + e.Err.Error()
	}
	s += " refused"
	if e.Code != 0 {
		s += ": code " + strconv.FormatInt(e.Code, 10)
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *LoginError) Unwrap() error { return e.Err }

// privateSpecs are the venues with a private connection besides Binance's
// WS-API.
var privateSpecs = map[schema.Venue]*privateSpec{
	schema.VenueOKX: okxPrivate, schema.VenueBybit: bybitPrivate,
	schema.VenueKraken: krakenPrivate, schema.VenueCoinbase: coinbasePrivate,
}

// privateSpec is how a venue's private connection authenticates and what
// it subscribes, as data.
type privateSpec struct {
	// login returns the message that authenticates the connection, made
	// with the venue's time now. nil for venues whose subscriptions carry
	// the authentication (Kraken's token, Coinbase's JWT).
	login func(p *private, now time.Time) ([]byte, error)
	// subscribe returns the private subscriptions, sent once the login is
	// accepted (at once without a login step); each is answered by one ack.
	// A failure is a *LoginError.
	subscribe func(ctx context.Context, p *private, now time.Time) ([][]byte, error)
	// ping is the venue's application-level ping, sent every
	// Client.PingInterval once subscribed, until the connection goes
	// (refused meanwhile too, waiting out a retry's backoff): venues
	// close a private connection that stays quiet (OKX after 30 s), and
	// its answer keeps wsclient's idle watchdog fed. nil: the venue sends heartbeats itself.
	ping []byte
	// orders, when set, makes the venue's order calls, whose answers come
	// on this connection (OKX, Kraken).
	orders func(*Session) *venueOrders
	// trade, when set, is the venue's separate order connection (Bybit's
	// trade WebSocket at Endpoints.Trade), logged in as its own private
	// connection; its orders are made by trade.orders.
	trade *privateSpec
	// step names the connection in a LoginError's Step ("trade": "trade
	// login"); "" for the private channels' connection.
	step string
	// subNames name subscribe's messages, in order, for a LoginError's
	// Channel.
	subNames []string
	// announces: the venue tells the connection it will close it soon
	// (closeAnnounced: OKX notice 64008); the session then reconnects
	// ahead (see private.retire).
	announces bool
	// queries, when set, asks the venue's REST API about orders: the
	// execution reports lost while the connection was down are
	// reconciled (OKX, Bybit, Kraken, Coinbase; with Endpoints.REST).
	queries func(*Session, Key) queryBackend
}

// phase is where the private connection's handshake stands.
type phase uint8

const (
	phaseIdle      phase = iota // no connection
	phaseLogin                  // login sent, its answer awaited
	phaseSubscribe              // subscriptions sent, acks awaited
	phaseReady                  // subscribed
	phaseRefused                // refused: a retry is scheduled
)

// Where one private subscription stands on a connection.
const (
	subWanted uint8 = iota // to send: not sent yet, or refused
	subSent                // sent, its answer awaited
	subTaken               // accepted: never sent again on this connection
)

// step is what the private connection's worker acts on, in order.
type step struct {
	conn   uint64 // the connection it concerns
	up     bool   // a connection came up (else: an answer, or down)
	down   bool   // the connection went down
	answer bool
	retire bool // the venue announced it will close the connection
	// ended: the venue ended subscription sub of conn after taking it
	// (OKX channel-conn-count-error: subscriptionEnded).
	ended bool
	sub   int
	// rotating: a rotation of conn began (wsclient's Rotating): orders
	// wait until its switch. prep: Options.Prepare asks for the handshake
	// on the rotation's new connection, conn. unprep: Prepare gave up on
	// conn (its time ran out, or Close).
	rotating bool
	prep     *prepared
	unprep   bool
	ok       bool   // the answer is an ack
	id       uint64 // the request id the answer echoes (Control.RequestID); 0 none
	noID     bool   // a refusal that carries no request id at all (echoesNoID)
	code     int64
	reason   string
}

// private is the private connection of OKX, Bybit, Kraken or Coinbase: the
// venue's login made anew, with the venue's time, on every connection,
// then its private channels subscribed. Its execution reports and account
// updates go to the dispatcher like Binance's.
type private struct {
	s      *Session
	spec   *privateSpec
	key    Key
	client *wsclient.Client
	parser *normalize.Parser
	runErr error
	clk    wsclient.Clock
	rnd    func(int64) int64

	// orders are the venue's order calls whose answers come on this
	// connection; nil when none. trade is Bybit's trade connection, a
	// private of its own (trade.orders), run beside this one; nil when
	// none. isTrade marks that connection.
	orders  *venueOrders
	trade   *private
	isTrade bool
	// boardErr is the refusal this connection put on the state board
	// (refused), nil when none; read and written under the board's lock.
	boardErr error
	// rec follows the open orders and reconciles them after a window
	// without the private channels; nil without spec.queries or
	// Endpoints.REST.
	rec        *reconciler
	recRefused refusedLimit // reconciliations started by refused execution reports (refused.go)

	frameConn uint64 // the connection of the frame being parsed: the reader's only
	frame     []byte // the frame being parsed (the reader's, only while it is)
	repeats   repeats
	steps     chan step
	quit      chan struct{}
	done      chan struct{}
	ctx       context.Context // ends at Close: bounds REST calls and writes
	cancel    context.CancelFunc

	mu       sync.Mutex
	last     schema.ConnState
	awaiting uint64 // the connection whose answers the worker wants; 0 none
	// awaitingOld is a rotation's old connection while the answers to its
	// subscriptions are in flight (beginPrep): the worker keeps them for
	// a failed rotation (endPrep); 0 none.
	awaitingOld uint64
	ready       bool // logged in and subscribed
	// Statistics, for Stats and tests.
	logins   uint64
	loginTS  time.Time // the venue time of the latest login (or signed subscription)
	refusals uint64
	token    string // Kraken: the WebSocket token of the connection orders go on, which they carry (a rotation's: at its switch)

	// The worker's own.
	conn    uint64
	phase   phase
	rejects int // refusals in a row
	// subs is where each of spec.subscribe's messages stands on this
	// connection (subWanted, subSent, subTaken), subRefused how many
	// times in a row the venue refused it, subIDs the request id it was
	// last sent with (0: the venue echoes none), inFlight the ones sent
	// whose answers are awaited, in the order sent, subErr the first
	// refusal of the round. resub: the retry scheduled is of the refused
	// subscriptions alone (the connection stays logged in).
	subs       []uint8
	subRefused []int
	subIDs     []uint64
	inFlight   []int
	subErr     *LoginError
	resub      bool
	retry      wsclient.Timer
	await      deadline       // the answer deadline of the login or subscriptions in flight
	expired    chan uint64    // await's expiries, to the worker (capacity 1: the deadline's goroutine need not wait for it)
	keep       wsclient.Timer // the next application-level ping
	reqID      uint64         // request ids of the handshake's messages
	ids        []uint64       // the ids nextID gave out for the messages being made
	loginID    uint64         // the login's request id; 0 none
	// prep is the rotation whose new connection the handshake is made on
	// (p.conn is then its id), until the switch or its failure; nil none.
	prep *prepared
	// retiring is the connection the venue announced it will close (OKX
	// notice 64008, Bybit 10019: retire): a failed rotation asks again
	// for its replacement (endPrep); 0 none.
	retiring uint64
	// kraken is the WebSocket token fetched last (Kraken; see krakenToken).
	kraken krakenFetched
}

// prepared is a rotation's new connection, logged in and subscribed
// before the switch (wsclient Options.Prepare; see private.prepare).
type prepared struct {
	id    uint64                                      // the new connection
	write func(ctx context.Context, msg []byte) error // on it, before the switch
	done  chan error                                  // the handshake's end (capacity 1)
	// old is the connection it replaces (0: lost meanwhile), wasReady
	// whether old was logged in and subscribed, ok whether the new one
	// is (done was sent nil).
	old      uint64
	wasReady bool
	ok       bool
	// subs, subRefused, subIDs and resub are old's subscriptions, set
	// aside while the new connection is subscribed: put back when the
	// rotation fails (endPrep), so that the venue's end of one of them
	// on old (OKX channel-conn-count-error, endedSub) is still followed.
	subs       []uint8
	subRefused []int
	subIDs     []uint64
	resub      bool
	// The old connection's handshake step in flight at beginPrep: its
	// login (login, loginID), or its subscriptions awaiting their answers
	// (inFlight) and the round's first refusal (subErr). answers are the
	// answers to them come during the rotation: taken when it fails
	// (endPrep), as they would have been without it, rather than dropped
	// and the step done again after a backoff (a second login, which OKX
	// refuses as a replay, 60009; a channel sent again).
	login    bool
	loginID  uint64
	inFlight []int
	subErr   *LoginError
	answers  []step
	// token is Kraken's WebSocket token of the new connection: the
	// orders' from the switch on (p.token until then).
	token string
	// retire: the new connection told of its close (closeAhead) before
	// the switch; it is replaced once it is the live one (step up).
	retire bool
	// fate settles, once, whether a refusal after the handshake (ok)
	// fails Prepare (prepFailed: failed gets its error, which Prepare
	// returns) or comes after Prepare returned nil (prepCommitted: the
	// switch follows; the connection is then as a live one).
	fate   atomic.Int32
	failed chan error // capacity 1
}

// A prepared connection's fate (prepared.fate).
const (
	prepOpen int32 = iota
	prepCommitted
	prepFailed
)

// fail makes Prepare return err, when it has not returned nil yet.
func (pr *prepared) fail(err error) bool {
	if !pr.fate.CompareAndSwap(prepOpen, prepFailed) {
		return false
	}
	pr.failed <- err
	return true
}

// nextID is the request id of the next handshake message, for the specs
// of venues that echo it in their answer (Bybit req_id, Kraken v2
// req_id): the answer is paired with its request by it (see
// subscribeAnswer).
func (p *private) nextID() uint64 {
	p.reqID++
	p.ids = append(p.ids, p.reqID)
	return p.reqID
}

func newPrivate(s *Session, spec *privateSpec, key Key) (*private, error) {
	p, err := newPrivateConn(s, spec, key, s.cfg.Endpoints.API)
	if err != nil {
		return nil, err
	}
	if spec.trade != nil && s.cfg.Endpoints.Trade != "" {
		t, err := newPrivateConn(s, spec.trade, key, s.cfg.Endpoints.Trade)
		if err != nil {
			p.cancel()
			return nil, err
		}
		t.isTrade = true
		p.trade = t
		if p.rec != nil && t.orders != nil {
			t.orders.rec = p.rec
		}
		cancel := p.cancel
		p.cancel = func() { cancel(); t.cancel() } // Close's cancel ends the trade connection's Run too
	}
	return p, nil
}

// newPrivateConn makes one authenticated connection to url.
func newPrivateConn(s *Session, spec *privateSpec, key Key, url string) (*private, error) {
	cfg := &s.cfg
	p := &private{s: s, spec: spec, key: key, clk: cfg.Client.Clock,
		steps: make(chan step, 64), quit: make(chan struct{}), done: make(chan struct{}), expired: make(chan uint64, 1)}
	p.await.s = s
	p.repeats.clk = cfg.Client.Clock
	if p.rnd = cfg.Client.Rand; p.rnd == nil {
		p.rnd = rand.Int64N
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.parser = s.spec.parser(s.pools.Events, p, &normalize.Options{Symbols: s.syms, Logger: cfg.Logger})
	opts := cfg.Client
	opts.Venue = s.spec.venue
	opts.Frames = s.pools.Frames
	opts.Topics, opts.EncodeSubscribe, opts.Subscriptions = nil, nil, nil
	// IsData calls every frame no data: after a rotation's switch the
	// replaced connection stays open RotationOverlap, every frame it
	// delivers (an answer to an order sent on it before the switch; a
	// report the new connection delivers too, dropped as a repeat) reaching
	// the handler (see venueOrders.graceFrom). DataTimeout is off.
	opts.DataTimeout, opts.IsData = noDataTimeout, noData
	// A rotation (the venue's announced close: retire; Client.MaxAge when
	// the host sets one) replaces the connection make-before-break: the
	// new one is logged in and subscribed before the switch (prepare).
	// None of these venues documents a lifetime for the private
	// connection (OKX v5 "WebSocket → Connect", Bybit v5 "WebSocket →
	// Connect": max_active_time bounds an idle connection only, Kraken
	// "Reconnection and resilience", Coinbase Advanced Trade "WebSocket
	// Overview"): no MaxAge by default.
	opts.MaxAge = max(opts.MaxAge, 0)
	opts.Prepare = p.prepare
	opts.RotationOverlap = prepareOverlap
	opts.OnEvent = p.onEvent
	opts.OnReplacedEnd = p.replacedEnded
	c, err := wsclient.New(url, p.handle, &opts)
	if err != nil {
		p.cancel()
		return nil, err
	}
	p.client = c
	switch {
	case spec.queries != nil && cfg.Endpoints.REST != "":
		p.rec = newReconciler(s, spec.queries(s, key))
	case spec.queries != nil && cfg.Logger != nil:
		cfg.Logger.Warn("session: without Endpoints.REST, execution reports missed while the private connection is down are not reconciled",
			"venue", string(s.spec.venue))
	}
	if spec.orders != nil {
		p.orders = spec.orders(s)
		p.orders.client = c
		p.orders.rec = p.rec
		p.orders.reconnect = p.closeAhead
	}
	return p, nil
}

// handle is the connection's frame handler: it notes the connection the
// frame came on, so that an answer is never taken for a later connection's.
func (p *private) handle(ctx context.Context, f *schema.WsFrame) error {
	p.frameConn, p.frame = f.ConnID, f.Data
	defer func() { p.frame = nil }()
	if p.orders != nil {
		if done, err := p.orders.handleFrame(ctx, f); done {
			return err
		}
	}
	return p.parser.HandleFrame(ctx, f)
}

// Publish is the parser's sink, on the reader: every event goes on to the
// dispatcher; an answer (ack or venue error) the worker awaits is handed to
// it too, without blocking.
func (p *private) Publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	if ev.Type == schema.EventExecReport && p.repeats.check(p.frameConn, ev) {
		p.s.pools.Events.Put(ev) // delivered already, from the rotation's other connection
		return nil
	}
	if ev.Type == schema.EventExecReport && p.rec != nil { // tracked, and published unless reconciled already
		return p.rec.stream(ctx, ev)
	}
	c := ev.ControlOrZero()
	switch {
	case p.refusedReport(ev): // refused.go: a refused execution report, reconciled at a bounded rate
	case ev.Type == schema.EventGap && ev.Symbol == "" && c.GapSource == schema.GapVenue && p.rec != nil && p.isReady():
		// The connection lost a message (Coinbase: a jump in sequence_num,
		// which counts every message of the connection): an order update
		// may be among them, of which no later report tells (an end).
		p.rec.missed(p.frameConn)
	}
	if ev.Type == schema.EventControl && closeAnnounced(ev) && p.spec.announces {
		p.closeAhead()
	}
	if i, ok := p.endedSub(ev); ok {
		// No answer to a request (it echoes no id): neither a
		// subscription's nor an order's (soleRefusal).
		p.send(step{conn: p.frameConn, ended: true, sub: i, reason: c.Reason})
		return p.s.disp.Publish(ctx, ev)
	}
	if ev.Type == schema.EventControl && (c.Kind == schema.ControlSubscribeAck || c.Kind == schema.ControlVenueError) {
		p.mu.Lock()
		want := p.awaiting != 0 && p.awaiting == p.frameConn || p.awaitingOld != 0 && p.awaitingOld == p.frameConn
		p.mu.Unlock()
		idless := c.Kind == schema.ControlVenueError && c.RequestID == 0 && echoesNoID(p.frame)
		switch {
		case want && idless && p.orders != nil && p.orders.awaits(p.frameConn):
			// A subscription (OKX: a channel subscribed again after
			// channel-conn-count-error, endedSub) and an order await
			// their answers on the connection: the error may be either's
			// (soleAnswer) and answers neither. Were it the
			// subscription's, its deadline (answerTimeout) ends the
			// wait; the order's, the caller's context.
		case want:
			p.send(step{conn: p.frameConn, answer: true, ok: c.Kind == schema.ControlSubscribeAck,
				id: c.RequestID, noID: idless, code: c.Code, reason: c.Reason})
		case idless && p.orders != nil:
			p.orders.soleRefusal(p.frameConn, ev) // OKX's {"event":"error"} to an order request
		}
	}
	return p.s.disp.Publish(ctx, ev)
}

// closeAhead replaces the connection of the frame being read, which the
// venue will close (OKX notice 64008) or serves no new request (Bybit
// 10019), on the reader: orders wait from here on, and the worker
// rotates (retire). A replaced connection's notice in its grace is its
// own: nothing is done.
func (p *private) closeAhead() {
	if p.replaced() {
		return
	}
	p.setReady(false) // at once: no order goes out on this connection after the notice
	p.send(step{conn: p.frameConn, retire: true})
}

// replaced reports whether the frame being parsed came on a connection a
// rotation replaced, open still in its grace after the switch (wsclient
// Options.IsData, RotationOverlap): a connection id older than the live
// one's (wsclient numbers its connections in the order dialled). A notice
// of its close is its own, not the live connection's.
func (p *private) replaced() bool {
	live := p.client.Stats().ConnID
	return live != 0 && p.frameConn < live
}

// send queues a step. The queue holds far more than a connection's
// handshake answers; were it ever full, the step is dropped: an answer
// dropped so is one never received, and its deadline (answerTimeout)
// ends the wait with ErrNoAnswer and a retry.
func (p *private) send(st step) {
	select {
	case p.steps <- st:
	default:
		if p.s.cfg.Logger != nil {
			p.s.cfg.Logger.Warn("session: private connection step dropped", "venue", string(p.s.spec.venue))
		}
	}
}

// replacedEnded is wsclient's Options.OnReplacedEnd: the orders in
// flight on the replaced connection end with it (venueOrders.replacedEnded).
// p.orders is set after wsclient.New, before Run: read once Run called it.
func (p *private) replacedEnded(old uint64) {
	if p.orders != nil {
		p.orders.replacedEnded(old)
	}
}

// onEvent follows the connection (wsclient's event goroutine).
func (p *private) onEvent(e wsclient.Event) {
	s := p.s
	p.mu.Lock()
	changed := e.State != p.last
	p.last = e.State
	if changed && e.State != schema.ConnRotating { // (rotating: the worker awaits the new connection's answers: prepare)
		p.awaiting = 0
		p.ready = false // not until logged in on the new connection
		if e.State == schema.ConnConnected {
			p.awaiting = e.ConnID
		}
	}
	p.mu.Unlock()
	if p.orders != nil {
		// Requests in flight on a connection that is no longer the
		// client's current one have lost their answer.
		cur := p.client.Stats().ConnID
		if st := p.client.State(); st != schema.ConnConnected && st != schema.ConnRotating {
			cur = 0 // (rotating: the old connection still answers until the switch)
		}
		if cur != 0 && e.ConnID == cur && e.State == schema.ConnConnected && e.Reason == wsclient.ReasonRotation && e.Err == nil {
			p.orders.graceFrom(cur) // a rotation's switch: the replaced connection answers on
		}
		p.orders.retain(cur, e.State == schema.ConnClosed)
	}
	role := Conn{Role: RoleOrders}
	if p.isTrade {
		role.Role = RoleTrade
	}
	if changed {
		if p.isTrade {
			s.publishTradeState(e)
			s.state.update(func(b *stateBoard) { b.ordersReady = false })
		} else {
			s.ordersStateChanged(e, p)
		}
		// Steps for the worker: blocking here is fine (this is the
		// connection's event goroutine), and a connection's up and down
		// must not be lost.
		rot := e.State == schema.ConnRotating
		st := step{conn: e.ConnID, up: e.State == schema.ConnConnected, down: e.State != schema.ConnConnected && !rot, rotating: rot}
		select {
		case p.steps <- st:
		case <-p.quit:
		}
	}
	s.onEvent(role, e)
}

// start starts the worker, and the trade connection's (its worker and
// its Run, which p.cancel ends); the session waits for them in Close.
func (p *private) start() {
	go p.work()
	if t := p.trade; t != nil {
		go t.work()
		s := p.s
		s.runWG.Add(1)
		go func() {
			defer s.runWG.Done()
			t.runErr = t.client.Run(t.ctx)
		}()
	}
}

// stop ends the worker and waits for it; the client is closed already.
// Requests still waiting for an answer end with ErrClosed.
func (p *private) stop() {
	p.cancel()
	close(p.quit)
	<-p.done
	if p.orders != nil {
		p.orders.retain(0, true)
	}
	if p.trade != nil {
		p.trade.stop()
	}
}

// work runs the handshake: one goroutine, so that the steps of one
// connection are taken in order and a slow REST call (Kraken's token)
// holds up nothing but this connection.
func (p *private) work() {
	defer close(p.done)
	for {
		var retryC, keepC <-chan time.Time
		if p.retry != nil {
			retryC = p.retry.C()
		}
		if p.keep != nil {
			keepC = p.keep.C()
		}
		select {
		case <-p.quit:
			p.stopRetry()
			p.stopAwait()
			p.stopKeepalive()
			return
		case gen := <-p.expired:
			// The steps queued before the expiry was taken first: an
			// answer read in time, queued while the worker was busy, is
			// not lost to its deadline (a select picks either at random).
			p.takeQueued()
			if p.await.live(gen) {
				p.noAnswer()
			}
		case st := <-p.steps:
			p.step(st)
			p.s.hookStepped(p)
		case <-keepC:
			p.keep = nil
			if p.conn != 0 {
				// The current connection's (the old one while a rotation
				// is prepared), whatever its handshake's phase: a venue
				// closes a quiet connection (OKX after 30 s), a refused one
				// waiting out its retry's backoff (up to BackoffCap) too.
				p.ping()
				p.keepalive()
			}
		case <-retryC:
			p.retry = nil
			if p.phase == phaseRefused {
				p.s.state.update(p.clearBoardErr) // waiters wait for this attempt
				if p.resub {
					p.subscribe() // the refused subscriptions alone: the connection is logged in
				} else {
					p.login()
				}
			}
		}
	}
}

// takeQueued takes the steps queued now (the worker alone receives them:
// none blocks), in their order.
func (p *private) takeQueued() {
	for n := len(p.steps); n > 0; n-- {
		p.step(<-p.steps)
		p.s.hookStepped(p)
	}
}

// keepalive schedules the next application-level ping, if the venue
// takes one and pings are on (Client.PingInterval, default 15 s).
func (p *private) keepalive() {
	every := p.s.cfg.Client.PingInterval
	if p.spec.ping == nil || every < 0 {
		return
	}
	if every == 0 {
		every = wsclient.DefaultPingInterval
	}
	p.stopKeepalive()
	p.keep = p.clk.NewTimer(every)
}

func (p *private) stopKeepalive() { stopTimer(&p.keep) }

// stopTimer stops *t, if armed, and forgets it.
func stopTimer(t *wsclient.Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// expectAnswer starts, or restarts, the deadline of the answers in
// flight; its expiry comes to the worker (p.expired), which takes it
// unless the deadline was stopped or restarted meanwhile.
func (p *private) expectAnswer() {
	p.await.arm(answerTimeout, func(gen uint64) {
		select {
		case p.expired <- gen:
		case <-p.quit:
		}
	})
}

func (p *private) stopAwait() { p.await.disarm() }

// noAnswer: the login or a subscription in flight went unanswered past
// answerTimeout (a lost answer, one echoing an id the session never sent,
// a venue stuck). Without it the connection stayed in its handshake for
// good: no error, no retry, orders never ready. It is a refusal
// (LoginError wrapping ErrNoAnswer), tried again after the backoff as
// one: the login again, or the unanswered subscriptions alone.
//
// On the same connection, not a new one: a subscription the venue took
// but whose answer was lost is refused when sent again by Bybit and
// Kraken ("already subscribed"), which alreadySubscribed takes for its
// ack; the answers are paired by request id (Bybit, Kraken, OKX), so a
// late answer is none of the retry's. A new connection would be cleaner
// where answers echo no id (OKX's login, Coinbase's subscriptions: a late
// answer may be taken for the retry's), but wsclient cannot yet drop a
// connection for the session: Rotate switches only at the new
// connection's first message, which a private connection of Bybit,
// Kraken or Coinbase never sends before its login.
func (p *private) noAnswer() {
	switch {
	case p.phase == phaseLogin:
		p.refused(&LoginError{Venue: p.s.spec.venue, Step: p.stepName("login"), Err: ErrNoAnswer})
	case p.phase == phaseSubscribe && len(p.inFlight) > 0:
		i := p.inFlight[0]
		for _, j := range p.inFlight {
			p.subs[j] = subWanted
			p.subRefused[j]++
		}
		p.inFlight = p.inFlight[:0]
		p.refusedSubs(&LoginError{Venue: p.s.spec.venue, Step: p.stepName("subscribe"), Channel: p.subName(i), Attempts: p.subRefused[i], Err: ErrNoAnswer})
	}
}

func (p *private) stopRetry() { stopTimer(&p.retry) }

func (p *private) step(st step) {
	switch {
	case st.prep != nil:
		p.beginPrep(st.prep)
	case st.unprep:
		if p.prep != nil && p.prep.id == st.conn {
			p.endPrep(ErrNoAnswer)
		}
	case st.rotating:
		// Orders wait for the switch: an order sent on the old connection
		// then would lose its answer with it (see prepare).
		p.setReady(false)
	case st.up && p.prep != nil && p.prep.id == st.conn && p.prep.ok:
		// The rotation's switch: the new connection is logged in and
		// subscribed already (prepare); no second login.
		if p.prep.token != "" {
			p.mu.Lock()
			p.token = p.prep.token
			p.mu.Unlock()
		}
		retire := p.prep.retire
		p.prep = nil
		p.mu.Lock()
		p.awaitingOld = 0 // (the old connection's answers go with it)
		p.mu.Unlock()
		switch {
		case retire:
			// Its close announced before the switch: replaced now, orders
			// waiting (a Rotate then named the old connection, current
			// until the switch, and the switch dropped the request).
			p.retire()
		case p.phase == phaseReady: // else refused after Prepare returned: its retry makes it ready
			p.live(true)
		}
	case st.up:
		if p.prep != nil {
			p.endPrep(ErrDisconnected) // the rotation failed, or was overtaken by a new connection
		}
		if st.conn == p.conn && p.phase != phaseIdle {
			// A failed rotation's end (Connected again, on the old
			// connection): it is still logged in and subscribed; orders go
			// on it again. Not ready (a channel the venue ended awaits its
			// answer or its retry, endPrep): its handshake goes on, no
			// second login, which OKX refuses as a replay of the first
			// (60009) and would fail the connection (s39sess4).
			if p.phase == phaseReady {
				p.live(false)
			}
			return
		}
		p.stopRetry()
		p.stopAwait()
		p.conn = st.conn
		p.resetSubs()
		p.login()
	case st.down && p.prep != nil && st.conn == p.prep.old && st.conn != 0:
		// The old connection lost while the new one is prepared: the
		// handshake goes on; the switch ends the window (reconciled then).
		p.prep.old, p.prep.wasReady = 0, false
		p.mu.Lock()
		p.awaitingOld = 0
		p.mu.Unlock()
		p.setReady(false)
		if p.rec != nil {
			p.rec.lost()
		}
	case st.down:
		if p.prep != nil {
			p.endPrep(ErrDisconnected)
		}
		p.stopRetry()
		p.stopAwait()
		p.stopKeepalive()
		p.conn, p.phase = 0, phaseIdle
		p.resetSubs()
		p.setReady(false)
		if p.rec != nil {
			p.rec.lost()
		}
	case (st.answer || st.ended) && p.prep != nil && st.conn == p.prep.old && st.conn != 0:
		// The old connection's login's or subscriptions' answers, or the
		// venue's end of one of its subscriptions: taken if the rotation
		// fails (endPrep).
		p.prep.answers = append(p.prep.answers, st)
	case st.answer && st.conn == p.conn:
		p.answer(st)
	case st.retire && p.prep != nil && st.conn == p.prep.id:
		// The rotation's new connection will close (OKX 64008 on a server
		// being upgraded): replaced after the switch (a Rotate now would
		// name the old connection, current until then: dropped at the
		// switch); a failed rotation closes it.
		p.prep.retire = true
	case st.retire && p.prep != nil && st.conn == p.prep.old && st.conn != 0:
		// The old connection will close, its replacement under way (a
		// rotation at MaxAge, or one asked before): the switch replaces
		// it; should the rotation fail, it is retired again (endPrep):
		// its replacement is asked again.
		p.retiring = st.conn
		p.logRetire(st.conn)
	case st.retire && st.conn == p.conn && p.conn != 0:
		p.retire()
	case st.ended && st.conn == p.conn && p.conn != 0:
		p.subscriptionEnded(st)
	}
}

// okxConnCountError is the event of OKX's notice that a private channel's
// subscription of the connection was terminated (normalize gives it as
// the Reason of a venue error with no code).
const okxConnCountError = "channel-conn-count-error"

// endedSub reports whether ev tells that the venue ended a private
// subscription it had taken, and which (its index in the spec's
// subscriptions). OKX v5 "WebSocket → Connection count limit": 30
// connections per private channel (orders, account, positions, …) per
// sub-account; past it "the latest connection that sends the subscription
// request will be rejected. Client will receive the usual subscription
// acknowledgement, followed by the channel-conn-count-error from the
// connection that the subscription has been terminated. In exceptional
// circumstances the platform may unsubscribe existing connections":
// {"event":"channel-conn-count-error","channel":"orders","connCount":"30",
// "connId":"…"}. A channel the session did not subscribe is none.
func (p *private) endedSub(ev *schema.CanonicalEvent) (int, bool) {
	if c := ev.ControlOrZero(); ev.Venue != schema.VenueOKX || ev.Type != schema.EventControl || c.Kind != schema.ControlVenueError || c.Reason != okxConnCountError {
		return 0, false
	}
	i := slices.Index(p.spec.subNames, frameChannel(p.frame))
	return i, i >= 0
}

// frameChannel is the top-level "channel" of a venue's frame, "" when it
// has none or cannot be read (a decoder panic included: goccy v0.12 is a
// fresh rewrite). For rare notices only: it decodes the frame.
func frameChannel(data []byte) (ch string) {
	var m struct {
		Channel string `json:"channel"`
	}
	if safejson.Unmarshal(data, &m) != nil {
		return ""
	}
	return m.Channel
}

// subscriptionEnded: the venue ended subscription st.sub of the
// connection after taking it (endedSub) — the connection delivers
// nothing of that channel any more (on "orders", no execution report), so
// it is not left ready as if subscribed: the subscription counts as
// refused (a *LoginError, Step "subscribe", Msg the venue's event), and
// it alone is sent again on the connection after the backoff (refused),
// its acceptance reconciling the window. The limit is the account's: a
// make-before-break rotation needs one connection more, so at the limit
// the rotation's new connection is the one refused: its Prepare fails
// when the notice comes before Prepare returned — after the handshake,
// while it waits for the old connection's answers (prepared.fail) — the
// old connection stays, subscribed, and wsclient tries again after its
// backoff: the host keeps a connection with every channel rather than
// switch to one without. Once Prepare returned nil the switch cannot be
// stopped: the new connection is refused as a live one (not ready, the
// channel alone subscribed again after the backoff, no second login); the
// replaced connection's subscription goes at the end of its grace, and
// the retry on the new one is taken.
func (p *private) subscriptionEnded(st step) {
	i := st.sub
	if i < 0 || i >= len(p.subs) || p.subs[i] != subTaken {
		return // not taken: its answer is awaited, or it was refused already
	}
	p.subs[i] = subWanted
	p.subRefused[i]++
	err := &LoginError{Venue: p.s.spec.venue, Step: p.stepName("subscribe"), Channel: p.subName(i),
		Attempts: p.subRefused[i], Msg: st.reason}
	switch p.phase {
	case phaseSubscribe: // the others' answers are awaited: refused once they came
		if p.subErr == nil {
			p.subErr = err
		}
	case phaseReady: // (its pings go on: the connection stays, logged in)
		p.refusedSubs(err)
	}
}

// retire reconnects ahead of a close the venue announced (OKX notice
// 64008, "The connection will soon be closed for a service upgrade",
// sent 60 s before: OKX v5 "WebSocket → Notification of service
// upgrade"): orders wait from here on while the new connection is made
// (none is sent on the one about to go while its replacement comes,
// where its answer could be lost with it), and a rotation
// (wsclient's Rotate) dials a new connection at once, logs it in and
// subscribes it (prepare) while the old one still delivers the answers
// of the requests in flight and the reports; the switch follows.
//
// The connection stays retiring (p.retiring) until it goes: should the
// rotation fail, orders go on it again (the failed rotation's Connected
// event, its *wsclient.PrepareError: live) — the venue serves it until
// its close, 30 s to 60 s on; a bot is not kept from trading meanwhile —
// and it is retired again (endPrep): wsclient's next try of the failed
// rotation, after its backoff, is the one asked (Client.Rotate). The
// venue's close, if first, makes a new connection with a login of its
// own.
//
// The worker may be behind wsclient: a connection no longer the client's
// current one (lost, its next one dialled, the loss's step still queued)
// is retired by nothing — its loss's step does what a loss does —, never
// by a Rotate, which would replace the current connection, just dialled,
// for the gone one's notice.
func (p *private) retire() {
	if p.client.Stats().ConnID != p.conn {
		return
	}
	p.retiring = p.conn
	p.logRetire(p.conn)
	p.setReady(false)
	if err := p.client.Rotate(); err != nil && p.s.cfg.Logger != nil {
		p.s.cfg.Logger.Warn("session: reconnecting ahead of the announced close failed", "venue", string(p.s.spec.venue), "err", err)
	}
}

// logRetire logs the venue's announced close of connection conn.
func (p *private) logRetire(conn uint64) {
	if p.s.cfg.Logger != nil {
		p.s.cfg.Logger.Info("session: the venue announced it will close the private connection; reconnecting ahead",
			"venue", string(p.s.spec.venue), "conn_id", conn)
	}
}

// now is the venue's time, the clock offset measured again first (when
// the session measures it): a login made with it is fresh by the venue's
// clock.
func (p *private) now() time.Time {
	s := p.s
	if s.syncsClock() {
		if err := s.clock.sync(p.ctx, s.cfg.HTTPClient, s.spec.venue, s.cfg.Endpoints.REST); err != nil && s.cfg.Logger != nil && p.ctx.Err() == nil {
			s.cfg.Logger.Warn("session: clock offset not measured; keeping the last one", "venue", string(s.spec.venue), "err", err)
		}
	}
	return s.clock.venueNow()
}

// login authenticates the connection with a login made now, or sends the
// subscriptions that carry the authentication.
func (p *private) login() {
	if p.spec.login == nil {
		p.subscribe()
		return
	}
	now := p.now()
	p.ids = p.ids[:0]
	msg, err := p.spec.login(p, now)
	p.loginID = 0
	if len(p.ids) == 1 {
		p.loginID = p.ids[0]
	}
	if err != nil {
		p.refused(&LoginError{Venue: p.s.spec.venue, Step: p.stepName("sign"), Err: err})
		return
	}
	p.mu.Lock()
	p.logins++
	p.loginTS = now
	p.mu.Unlock()
	p.phase = phaseLogin
	p.expectAnswer()
	p.write(msg)
}

// subscribe sends the private subscriptions.
func (p *private) subscribe() {
	now := p.s.clock.venueNow()
	if p.spec.login == nil { // the subscription is the login
		now = p.now()
	}
	p.ids = p.ids[:0]
	msgs, err := p.spec.subscribe(p.ctx, p, now)
	if err != nil {
		if p.ctx.Err() != nil {
			return // closing
		}
		var le *LoginError
		if !errors.As(err, &le) {
			err = &LoginError{Venue: p.s.spec.venue, Step: p.stepName("sign"), Err: err}
		}
		p.refused(err)
		return
	}
	if p.spec.login == nil {
		p.mu.Lock()
		p.logins++
		p.loginTS = now
		p.mu.Unlock()
	}
	if len(p.subs) != len(msgs) {
		p.subs, p.subRefused, p.subIDs = make([]uint8, len(msgs)), make([]int, len(msgs)), make([]uint64, len(msgs))
	}
	for i := range p.subIDs {
		p.subIDs[i] = 0
		if len(p.ids) == len(msgs) {
			p.subIDs[i] = p.ids[i]
		}
	}
	p.phase, p.resub, p.subErr = phaseSubscribe, false, nil
	p.inFlight = p.inFlight[:0]
	for i := range msgs {
		if p.subs[i] != subTaken {
			p.subs[i] = subSent
			p.inFlight = append(p.inFlight, i)
		}
	}
	if len(p.inFlight) == 0 { // a login is all the connection needs (Bybit's trade connection)
		p.subscribed()
		return
	}
	// Their answers are awaited on the connection (Publish hands them to
	// the worker) — again after the connection was ready, when the venue
	// ended one of its subscriptions (subscriptionEnded): live cleared it.
	p.mu.Lock()
	p.awaiting = p.conn
	p.mu.Unlock()
	p.expectAnswer()
	for _, i := range p.inFlight {
		if !p.write(msgs[i]) {
			return
		}
	}
}

// resetSubs forgets the subscriptions of the connection that ended.
func (p *private) resetSubs() {
	p.subs, p.subRefused, p.subIDs, p.inFlight = p.subs[:0], p.subRefused[:0], p.subIDs[:0], p.inFlight[:0]
	p.subErr, p.resub = nil, false
}

// subscribeAnswer takes the answer to a subscription in flight: the one
// whose request id it echoes (Bybit, Kraken v2 req_id, OKX id: an answer
// is no reply to the oldest request, nothing in their docs says a
// connection's requests are answered in turn), else, from a venue that
// echoes none (Coinbase's subscriptions), the oldest. An answer echoing
// an id of no subscription in flight (a late answer, one to another
// request), or none where the requests carry one, is none of theirs. Once every one is answered, the
// connection is subscribed, or the refused ones alone are tried again
// after the backoff.
func (p *private) subscribeAnswer(st step) {
	if len(p.inFlight) == 0 {
		return // not ours to take (none awaited)
	}
	j := 0
	switch {
	case st.id != 0:
		j = slices.IndexFunc(p.inFlight, func(i int) bool { return p.subIDs[i] == st.id })
		if j < 0 {
			return // an answer to no subscription in flight
		}
	case p.subIDs[p.inFlight[0]] != 0 && (!st.noID || len(p.inFlight) > 1):
		// Every subscription went with an id its answer echoes: one that
		// echoes none answers another message (an error about another
		// request, a late login answer). Should it be the venue's answer
		// after all, the deadline (answerTimeout) ends the wait.
		return
	case p.subIDs[p.inFlight[0]] != 0:
		// An error echoing no id while one subscription alone awaits its
		// answer is that answer (soleAnswer): the venue's code at once,
		// not ErrNoAnswer 10 s later.
	}
	i := p.inFlight[j]
	p.inFlight = slices.Delete(p.inFlight, j, j+1)
	if st.ok || st.id != 0 && alreadySubscribed(st.reason) {
		p.subs[i], p.subRefused[i] = subTaken, 0
	} else {
		p.subs[i] = subWanted
		p.subRefused[i]++
		p.krakenTokenRefused(st.reason)
		if p.subErr == nil {
			p.subErr = &LoginError{Venue: p.s.spec.venue, Step: p.stepName("subscribe"), Channel: p.subName(i),
				Attempts: p.subRefused[i], Code: st.code, Msg: st.reason}
		}
	}
	switch {
	case len(p.inFlight) > 0:
		p.expectAnswer() // an answer came: the rest get their own time
	case p.subErr != nil:
		p.refusedSubs(p.subErr)
	default:
		p.subscribed()
	}
}

// alreadySubscribed reports whether a venue's refusal of a subscription
// says the connection has it already: Bybit's ret_msg "error:already
// subscribed,topic:order" (sent for a topic subscribed earlier on the
// connection; Bybit refuses the whole request then, its other topics
// included: ccxt/ccxt#30284's raw probe), Kraken's "Already subscribed".
// After an answer lost (ErrNoAnswer), the subscription sent again on the
// same connection gets this refusal when the venue had taken the first:
// it is in effect, and taken as an ack. Only for an answer paired by its
// request id (Bybit and Kraken req_id), to a request of one topic each, as
// every private subscription of the session is.
func alreadySubscribed(reason string) bool {
	const s = "already subscribed"
	for i := 0; i+len(s) <= len(reason); i++ {
		if strings.EqualFold(reason[i:i+len(s)], s) {
			return true
		}
	}
	return false
}

// subName names subscription i for a LoginError.
func (p *private) subName(i int) string {
	if i < len(p.spec.subNames) {
		return p.spec.subNames[i]
	}
	return strconv.Itoa(i)
}

// write sends msg on the worker's connection, p.conn (wsclient WriteConn:
// a login or subscription made for a connection lost meanwhile is not
// written on the next one, which gets its own); a failed write means the
// connection is going, and the next one starts over.
func (p *private) write(msg []byte) bool {
	ctx, cancel := context.WithTimeout(p.ctx, writeTimeout)
	defer cancel()
	p.s.hookWriting(p)
	if pr := p.prep; pr != nil && pr.id == p.conn {
		return pr.write(ctx, msg) == nil // a rotation's new connection, before the switch
	}
	return p.client.WriteConn(ctx, p.conn, msg) == nil // not on the next connection, if p.conn was lost meanwhile
}

func (p *private) answer(st step) {
	switch p.phase {
	case phaseLogin:
		if st.id != 0 && p.loginID != 0 && st.id != p.loginID {
			return // the answer to another request (Bybit auth echoes its req_id)
		}
		if !st.ok {
			p.refused(&LoginError{Venue: p.s.spec.venue, Step: p.stepName("login"), Code: st.code, Msg: st.reason})
			return
		}
		p.subscribe()
	case phaseSubscribe:
		p.subscribeAnswer(st)
	}
}

// subscribed: the connection is logged in and subscribed; orders may go
// on it, once every connection they need is (Bybit: the private channels'
// and the trade connection).
func (p *private) subscribed() {
	p.stopAwait()
	p.phase, p.rejects = phaseReady, 0
	p.keepalive()
	p.mu.Lock()
	p.awaiting = 0
	p.mu.Unlock()
	if pr := p.prep; pr != nil && pr.id == p.conn {
		if !pr.ok { // (once: refused after Prepare returned nil, then taken again before the switch, Prepare no longer reads done)
			pr.ok = true
			pr.done <- nil // the switch follows (step up: live)
		}
		return
	}
	p.live(true)
}

// live lets orders go on p.conn, logged in and subscribed; with reconcile,
// the window without the private channels before it is reconciled.
func (p *private) live(reconcile bool) {
	p.mu.Lock()
	p.awaiting = 0 // (onEvent set it at a rotation's Connected: no answer is awaited; an id-less refusal is an order's)
	p.mu.Unlock()
	if p.orders != nil {
		p.orders.setConn(p.conn) // before the board says ready
	}
	p.setReady(true)
	if reconcile && p.rec != nil {
		p.rec.subscribed(p.conn) // after a window without the private channels: reconcile
	}
}

// setReady records whether this connection is ready and tells the board
// whether orders may go: every connection of the session's private side
// ready, and the private channels' connection connected.
func (p *private) setReady(ready bool) {
	p.mu.Lock()
	p.ready = ready
	p.mu.Unlock()
	if !ready {
		if p.orders != nil {
			p.orders.setConn(0)
		}
		p.s.state.update(func(b *stateBoard) { b.ordersReady = false })
		return
	}
	// Whether every connection is ready is read under the board's lock:
	// Bybit's two connections become ready on workers of their own, and
	// the one that tells the board last must see both (read before the
	// lock, a stale "not ready" could overwrite the other's "ready", and
	// orders would wait for good). Lock order: the board's, then p.mu.
	p.s.state.update(func(b *stateBoard) {
		b.ordersReady = p.s.privateReady() && b.ordersState == schema.ConnConnected
		p.clearBoardErr(b)
	})
}

// clearBoardErr takes this connection's refusal (refused) off the board,
// under the board's lock (update), and no other: Bybit's two connections
// each put theirs there, and the one whose login or subscriptions the
// venue took must not clear the other's — refused, the other is not
// ready, and WaitOrdersReady returns its refusal until it is subscribed,
// tries again (the backoff's retry) or its connection changes. The
// other's refusal, overwritten by this one's, is put back (not counted
// again: a WaitConnected that returned it does not return it twice).
func (p *private) clearBoardErr(b *stateBoard) {
	if p.boardErr != nil && b.userDataErr == p.boardErr {
		b.userDataErr = nil
		if o := p.other(); o != nil {
			b.userDataErr = o.boardErr
		}
	}
	p.boardErr = nil
}

// other is Bybit's other private connection: the trade connection's for
// the private channels' and the reverse; nil for the other venues.
func (p *private) other() *private {
	if p.isTrade {
		return p.s.private
	}
	return p.trade
}

func (p *private) isReady() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ready
}

// privateReady reports whether the private channels' connection and, with
// one, Bybit's trade connection are logged in.
func (s *Session) privateReady() bool {
	p := s.private
	return p != nil && p.isReady() && (p.trade == nil || p.trade.isReady())
}

// refused records a refusal, tells the waiters, and tries again on this
// connection after the backoff (capped exponential with full jitter, as
// wsclient redials): a key the venue refuses is not hammered. It reports
// whether the retry is this connection's: false when a rotation's new
// connection was refused, the rotation ended (endPrep) and the old
// connection's state put back.
func (p *private) refused(err error) bool {
	if pr := p.prep; pr != nil && pr.id == p.conn && (!pr.ok || pr.fail(err)) {
		// A rotation's new connection, Prepare not returned: the rotation
		// fails (prepare), the old connection stays; wsclient tries again
		// after its backoff. (Once Prepare returned nil the switch to it
		// follows: refused as a live connection is, below.)
		p.mu.Lock()
		p.refusals++
		p.mu.Unlock()
		if p.s.cfg.Logger != nil {
			p.s.cfg.Logger.Warn("session: private connection refused on a rotation's new connection; keeping the old one", "venue", string(p.s.spec.venue), "err", err)
		}
		p.endPrep(err)
		return false
	}
	p.stopAwait()
	p.rejects++
	p.phase, p.resub = phaseRefused, false
	p.mu.Lock()
	p.refusals++
	p.ready = false
	p.mu.Unlock()
	if p.orders != nil {
		p.orders.setConn(0)
	}
	p.s.state.update(func(b *stateBoard) {
		b.ordersReady = false
		b.setUserDataErr(err)
		p.boardErr = err
	})
	if p.s.cfg.Logger != nil {
		p.s.cfg.Logger.Warn("session: private connection refused", "venue", string(p.s.spec.venue), "err", err, "attempt", p.rejects)
	}
	p.stopRetry()
	p.retry = p.clk.NewTimer(p.backoff())
	return true
}

// refusedSubs records the refusal of subscriptions on a logged-in
// connection (refused): its retry sends them alone (resub), no second
// login. A rotation's new connection refused so ends the rotation
// (endPrep), which puts the old connection's resub back: left as it is
// (setting it from refused's false made the old connection's retry a
// second login, which OKX refuses as a replay, 60009).
func (p *private) refusedSubs(err error) {
	if p.refused(err) {
		p.resub = true
	}
}

// backoff is the wait before login number rejects+1 on one connection:
// full jitter over min(cap, base·2^(rejects−1)), at least base/2 so that
// it never spins.
func (p *private) backoff() time.Duration {
	base, ceil := p.s.cfg.Client.BackoffBase, p.s.cfg.Client.BackoffCap
	if base <= 0 {
		base = wsclient.DefaultBackoffBase
	}
	if ceil <= 0 {
		ceil = wsclient.DefaultBackoffCap
	}
	d := base
	for i := 1; i < p.rejects && d < ceil; i++ {
		d *= 2
	}
	d = min(d, ceil)
	half := d / 2
	return half + time.Duration(p.rnd(int64(d-half)+1))
}

// syncsClock reports whether the session measures its clock offset: it
// signs (Credentials or Key), may (not NoClockSync) and can (REST).
func (s *Session) syncsClock() bool {
	return (s.cfg.Credentials != nil || s.cfg.Key != nil) && !s.cfg.NoClockSync && s.cfg.Endpoints.REST != ""
}

// checkKey checks Config.Key against the venue and the endpoints.
func checkKey(cfg *Config) error {
	if cfg.Key == nil {
		return nil
	}
	switch {
	case privateSpecs[cfg.Venue] == nil:
		return fmt.Errorf("%w: Config.Key is for OKX, Bybit, Kraken and Coinbase (Binance: Config.Credentials)", ErrConfig)
	case cfg.Key.venue() != cfg.Venue:
		return fmt.Errorf("%w: a %s key for a %s session", ErrConfig, cfg.Key.venue(), cfg.Venue)
	case cfg.Endpoints.API == "", cfg.Venue == schema.VenueKraken && cfg.Endpoints.REST == "":
		return ErrNoEndpoints
	}
	return nil
}

// stepName is a LoginError's Step for this connection: "login", or
// "trade login" on Bybit's trade connection.
func (p *private) stepName(step string) string {
	if p.spec.step != "" {
		return p.spec.step + " " + step
	}
	return step
}

// orderStats adds the order calls' counters to st, and Bybit's trade
// connection (its logins and refusals count with the private channels').
func (p *private) orderStats(st *Stats) {
	if t := p.trade; t != nil {
		st.Trade = ConnStats{Conn: Conn{Role: RoleTrade}, Client: t.client.Stats(), Parser: t.parser.Stats()}
		t.mu.Lock()
		st.Order.UserDataSubs += t.logins
		st.Order.Refused += t.refusals
		t.mu.Unlock()
		t.orders.stats(&st.Order)
	}
	if p.orders != nil {
		p.orders.stats(&st.Order)
	}
	if p.rec != nil {
		p.rec.stats(&st.Order)
	}
	st.Order.Duplicates += p.repeats.dropped.Load() // (after rec.stats, which sets its own)
}

// noData is the private and order connections' wsclient Options.IsData:
// no frame of theirs is market data.
func noData([]byte) bool { return false }

// prepareOverlap is the private connections' RotationOverlap: how long a
// rotation waits for the new connection's login and subscriptions
// (prepare) before it gives up and keeps the old one. Twice answerTimeout:
// a login and then a subscription round, each answered within its own
// answerTimeout (which refuses it first, with ErrNoAnswer, when not);
// the clock offset's measure and Kraken's token, REST calls made before
// them, normally take a round trip each. Short of OKX's notice (64008,
// 60 s ahead), so that a failed try is tried again before the close.
const prepareOverlap = 2 * answerTimeout

// drainBound bounds how long after a rotation's Prepare began its switch
// waits for the answers due on the old connection (awaitAnswers): three
// quarters of prepareOverlap, so that a switch held by a request the
// venue never answers still comes before the rotation's time runs out.
// Those requests then end with ErrDisconnected (outcome unknown, looked
// up by the reconciliation), as at any loss.
const drainBound = prepareOverlap * 3 / 4

// awaitAnswers holds a rotation's switch, its new connection ready, until
// idle is closed (no request awaits its answer on the old connection,
// which the switch closes: the answer would be lost with it) or due
// fires (drainBound after Prepare began): nil, the switch follows. It
// returns ctx's error when ctx ends first (the rotation fails), ErrClosed
// at quit.
func awaitAnswers(ctx context.Context, idle <-chan struct{}, due <-chan time.Time, quit <-chan struct{}) error {
	select {
	case <-idle:
		return nil
	case <-due:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-quit:
		return ErrClosed
	}
}

// prepare is the private connection's wsclient Options.Prepare: it logs
// the rotation's new connection, id, in and subscribes its private
// channels (write sends on it), on the worker, as on any new connection,
// and returns once the venue accepted them and the old connection has
// answered the orders in flight on it (awaitAnswers, at most drainBound
// after the call). Meanwhile the old connection
// delivers its reports and the answers to orders sent before the
// rotation; orders made during the rotation wait for its switch (step
// rotating), then go on the new connection: an order sent on the old
// one just before the switch would lose its answer with it. The new
// connection's frames are delivered between the old one's: its answers
// reach the worker (awaiting is id), its reports the host — a report
// sent on both is delivered once (repeats). A refusal (a *LoginError) or
// no answer by ctx's end (prepareOverlap: wsclient's *PrepareError
// wrapping context.DeadlineExceeded) fails the rotation: the old
// connection stays, logged in and subscribed, orders go on it again, and
// the host sees Connected on it with the *PrepareError (OnConnState);
// wsclient tries again after its backoff.
func (p *private) prepare(ctx context.Context, id uint64, write func(context.Context, []byte) error) error {
	pr := &prepared{id: id, write: write, done: make(chan error, 1), failed: make(chan error, 1)}
	due := p.clk.NewTimer(drainBound)
	defer due.Stop()
	select {
	case p.steps <- step{conn: id, prep: pr}:
	case <-ctx.Done():
		return ctx.Err()
	case <-p.quit:
		return ErrClosed
	}
	select {
	case err := <-pr.done:
		if err != nil {
			return err
		}
		if p.orders != nil {
			err = awaitAnswers(ctx, p.orders.idleExcept(id), due.C(), p.quit)
			if err == nil {
				p.s.hookDrained(id)
			}
		}
		if err == nil && !pr.fate.CompareAndSwap(prepOpen, prepCommitted) {
			return <-pr.failed // refused after the handshake (endedSub), before the switch
		}
		if err == nil || errors.Is(err, ErrClosed) {
			return err
		} // ctx ended: given up below
	case <-ctx.Done():
	case <-p.quit:
		return ErrClosed
	}
	// Given up: the worker learns it before wsclient's event of the
	// failed rotation, which this return leads to.
	select {
	case p.steps <- step{conn: id, unprep: true}:
	case <-p.quit:
	}
	return ctx.Err()
}

// beginPrep starts the handshake on a rotation's new connection. The old
// connection's handshake state is set aside (it is logged in and
// subscribed, or its login is retried after a backoff: endPrep puts it
// back if the rotation fails).
func (p *private) beginPrep(pr *prepared) {
	if p.prep != nil {
		p.endPrep(ErrDisconnected) // a rotation given up that the worker did not hear of
	}
	pr.old, pr.wasReady = p.conn, p.conn != 0 && p.phase == phaseReady
	// Orders wait for the switch from here on, as at the Rotating event
	// (step rotating), which may come later: wsclient queues it and calls
	// Prepare on a goroutine of its own, and the event waits behind a slow
	// host's OnState (or a full queue drops it). An order picked meanwhile
	// would go out on the old connection, its answer closed away with it.
	p.setReady(false)
	p.repeats.begin(pr.old, pr.id)
	p.prep = pr
	p.stopRetry()
	p.stopAwait()
	p.conn = pr.id
	// Logged in (subscribing, or its refused subscriptions awaiting the
	// backoff): on a failed rotation, the old connection's subscriptions
	// not taken yet are sent again without a new login.
	pr.subs, pr.subRefused, pr.subIDs = p.subs, p.subRefused, p.subIDs
	pr.resub = p.resub || p.phase == phaseSubscribe
	// The old connection's login or subscriptions awaiting their
	// answers: those that come meanwhile are kept (step), taken if the
	// rotation fails (endPrep).
	awaitOld := uint64(0)
	switch {
	case pr.old == 0:
	case p.phase == phaseLogin:
		pr.login, pr.loginID, awaitOld = true, p.loginID, pr.old
	case p.phase == phaseSubscribe && len(p.inFlight) > 0:
		pr.inFlight, pr.subErr, awaitOld = slices.Clone(p.inFlight), p.subErr, pr.old
	}
	p.subs, p.subRefused, p.subIDs = nil, nil, nil
	p.resetSubs()
	p.mu.Lock()
	p.awaiting, p.awaitingOld = pr.id, awaitOld
	p.mu.Unlock()
	p.login()
}

// endPrep ends the handshake on the rotation's new connection, failed
// (err), and puts the old connection's state back: logged in, or its
// login tried again after a backoff; none when it was lost meanwhile.
// Prepare fails with err: from its handshake (done), or, the handshake
// done, while it waits for the old connection's answers (fail) — a
// Prepare returning nil would switch to a connection the worker no
// longer holds, logged in again at the switch. A Prepare that returned
// nil already (committed) is not undone: the switch's Connected makes the
// new connection the worker's with a login of its own.
func (p *private) endPrep(err error) {
	pr := p.prep
	p.prep = nil
	if !pr.ok {
		pr.done <- err
	} else {
		pr.fail(err)
	}
	p.stopAwait()
	// The old connection's answers still awaited, at once: one read
	// meanwhile is not dropped (Publish).
	awaiting := uint64(0)
	if pr.old != 0 && (pr.login || len(pr.inFlight) > 0) {
		awaiting = pr.old
	}
	p.mu.Lock()
	p.awaiting, p.awaitingOld = awaiting, 0
	p.mu.Unlock()
	p.conn = pr.old
	p.resetSubs()
	if pr.old != 0 {
		p.subs, p.subRefused, p.subIDs, p.resub = pr.subs, pr.subRefused, pr.subIDs, pr.resub
	}
	switch {
	case pr.old == 0:
		p.phase = phaseIdle
		return
	case pr.wasReady:
		p.phase = phaseReady
	case pr.login || len(pr.inFlight) > 0:
		// Its login's or subscriptions' answers awaited again (a new
		// deadline).
		p.phase, p.loginID = phaseSubscribe, pr.loginID
		if pr.login {
			p.phase = phaseLogin
		}
		p.resub, p.subErr = false, pr.subErr
		p.inFlight = append(p.inFlight, pr.inFlight...)
		p.expectAnswer()
	default:
		p.phase = phaseRefused
		p.stopRetry()
		p.retry = p.clk.NewTimer(p.backoff())
	}
	// What came on the old connection during the rotation, taken now in
	// its order: the answers while the step they answer lasts (a login's
	// ok sends the subscriptions, whose answers come later); the venue's
	// end of a subscription whatever the phase (subscriptionEnded: the
	// connection is not left ready without the channel).
	phase := p.phase
	for _, st := range pr.answers {
		switch {
		case st.ended:
			p.subscriptionEnded(st)
		case p.phase == phase:
			p.answer(st)
		}
	}
	if p.conn != 0 && p.conn == p.retiring {
		p.retire() // its close announced during the rotation: replaced as soon as wsclient tries again
	}
}

// ping sends the venue's application-level ping on the current connection.
func (p *private) ping() {
	ctx, cancel := context.WithTimeout(p.ctx, writeTimeout)
	defer cancel()
	_ = p.client.Write(ctx, p.spec.ping)
}
