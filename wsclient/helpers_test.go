package wsclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// wait is the deadline of every wait in the tests: generous, for a loaded
// machine; a passing test never waits that long.
const wait = 30 * time.Second

// venue is a WebSocket server on loopback. Each accepted connection runs
// script with a session numbered from 1.
type venue struct {
	t      *testing.T
	srv    *httptest.Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	script func(s *session)
	aopts  *websocket.AcceptOptions
	n      atomic.Int32

	mu       sync.Mutex
	raw      map[string]net.Conn // by remote address
	sessions map[int]*session
	once     sync.Once
	down     bool // shutdown began: no session is added
}

// session is one server-side connection.
type session struct {
	v   *venue
	n   int
	ctx context.Context
	ws  *websocket.Conn
	raw net.Conn

	mu   sync.Mutex
	recv []string // messages read from the client
}

func newVenue(t *testing.T, script func(s *session)) *venue {
	return newVenueAccept(t, nil, script)
}

// newVenueAccept is newVenue with options for Accept.
func newVenueAccept(t *testing.T, aopts *websocket.AcceptOptions, script func(s *session)) *venue {
	v := &venue{t: t, script: script, aopts: aopts, raw: map[string]net.Conn{}, sessions: map[int]*session{}}
	v.ctx, v.cancel = context.WithCancel(context.Background())
	v.srv = httptest.NewUnstartedServer(http.HandlerFunc(v.accept))
	v.srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			v.mu.Lock()
			v.raw[c.RemoteAddr().String()] = c
			v.mu.Unlock()
		}
	}
	v.srv.Start()
	if t != nil {
		t.Cleanup(v.close)
	}
	return v
}

func (v *venue) url() string { return "ws" + strings.TrimPrefix(v.srv.URL, "http") }

func (v *venue) accept(w http.ResponseWriter, r *http.Request) {
	// Numbered before the handshake is answered: the client dials its
	// next connection only after this one's answer, so sessions are
	// numbered in dial order (numbered after Accept, two handlers could
	// swap numbers, and a script meant for the second connection would
	// run on the first).
	n := int(v.n.Add(1))
	ws, err := websocket.Accept(w, r, v.aopts)
	if err != nil {
		return
	}
	ws.SetReadLimit(-1)
	// Added under mu, never after shutdown began: a WaitGroup's Add
	// racing its Wait is a data race (a client redialling while the
	// venue shuts down, seen under -race).
	v.mu.Lock()
	if v.down {
		v.mu.Unlock()
		_ = ws.CloseNow()
		return
	}
	v.wg.Add(1)
	defer v.wg.Done()
	defer func() { _ = ws.CloseNow() }()
	s := &session{v: v, n: n, ctx: v.ctx, ws: ws, raw: v.raw[r.RemoteAddr]}
	v.sessions[s.n] = s
	v.mu.Unlock()
	v.script(s)
}

// close stops every session and the server. It is idempotent.
func (v *venue) close() { v.once.Do(v.shutdown) }

func (v *venue) shutdown() {
	v.cancel()
	v.mu.Lock()
	v.down = true
	for _, s := range v.sessions {
		_ = s.ws.CloseNow()
	}
	v.mu.Unlock()
	v.wg.Wait()
	v.srv.Close()
}

func (v *venue) session(n int) *session {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.sessions[n]
}

// received returns what session n has read from the client so far.
func (v *venue) received(n int) []string {
	s := v.session(n)
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.recv...)
}

// readN reads k messages from the client (answering its pings meanwhile).
func (s *session) readN(k int) error {
	for range k {
		_, m, err := s.ws.Read(s.ctx)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.recv = append(s.recv, string(m))
		s.mu.Unlock()
	}
	return nil
}

// readForever reads and records messages, answering pings, until the
// connection ends; it runs on its own goroutine, owned by the venue.
func (s *session) readForever() {
	s.v.wg.Add(1)
	go func() {
		defer s.v.wg.Done()
		for s.readN(1) == nil {
		}
	}()
}

func (s *session) send(msgs ...string) error {
	for _, m := range msgs {
		if err := s.ws.Write(s.ctx, websocket.MessageText, []byte(m)); err != nil {
			return err
		}
	}
	return nil
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) on(ev Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// waitFor waits for an event that matches and returns the first one.
func (r *recorder) waitFor(t *testing.T, what string, match func(Event) bool) Event {
	t.Helper()
	var got Event
	require.Eventually(t, func() bool {
		for _, ev := range r.all() {
			if match(ev) {
				got = ev
				return true
			}
		}
		return false
	}, wait, time.Millisecond, "no %s event; events: %v", what, r.all())
	return got
}

func (r *recorder) count(match func(Event) bool) int {
	n := 0
	for _, ev := range r.all() {
		if match(ev) {
			n++
		}
	}
	return n
}

func isState(st schema.ConnState) func(Event) bool {
	return func(ev Event) bool {
		return ev.State == st && ev.Reason != ReasonHandlerError && ev.Reason != ReasonInvalidFrame
	}
}

func connected(id uint64) func(Event) bool {
	return func(ev Event) bool { return ev.State == schema.ConnConnected && ev.ConnID == id && ev.Err == nil }
}

// rotating matches the start of a rotation of connection id: not a report
// made while the state is Rotating (an ErrRotationDropped of the new
// connection carries the state Rotating and that connection's id).
func rotating(id uint64) func(Event) bool {
	return func(ev Event) bool { return ev.State == schema.ConnRotating && ev.ConnID == id && ev.Err == nil }
}

// sink is a frame handler that keeps copies of what it is given.
type sink struct {
	mu     sync.Mutex
	msgs   []string
	conns  []uint64
	hook   func(f *schema.WsFrame) error
	frames atomic.Int64
}

func (k *sink) handle(_ context.Context, f *schema.WsFrame) error {
	k.frames.Add(1)
	k.mu.Lock()
	k.msgs = append(k.msgs, string(f.Data))
	k.conns = append(k.conns, f.ConnID)
	k.mu.Unlock()
	if k.hook != nil {
		return k.hook(f)
	}
	return nil
}

func (k *sink) got() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.msgs...)
}

func (k *sink) waitFor(t *testing.T, msgs ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		have := map[string]bool{}
		for _, m := range k.got() {
			have[m] = true
		}
		for _, m := range msgs {
			if !have[m] {
				return false
			}
		}
		return true
	}, wait, time.Millisecond, "messages %q not all delivered; got %q", msgs, k.got())
}

// harness runs a client against a venue.
type harness struct {
	t      *testing.T
	c      *Client
	frames *pool.Pool[*schema.WsFrame]
	rec    *recorder
	sink   *sink
	clock  *fakeClock
	runErr chan error
	leaks  goleak.Option
}

// testSubs are the subscription messages every test client sends.
var testSubs = []string{`{"op":"sub","args":["a"]}`, `{"op":"sub","args":["b"]}`}

// quickOptions are the options of the fault tests: fast liveness, no real
// backoff, the test subscriptions. Tests change what they exercise.
func quickOptions() *Options {
	return &Options{
		Venue:         schema.VenueBinance,
		Subscriptions: [][]byte{[]byte(testSubs[0]), []byte(testSubs[1])},
		PingInterval:  50 * time.Millisecond,
		PongTimeout:   3 * time.Second,
		IdleTimeout:   -1,
	}
}

// start builds and runs a client; leaks is the goroutine baseline taken
// before the venue was started.
func start(t *testing.T, url string, opts *Options, k *sink, leaks goleak.Option) *harness {
	t.Helper()
	h := &harness{t: t, rec: &recorder{}, sink: k, clock: newFakeClock(), runErr: make(chan error, 1), leaks: leaks}
	if opts.Frames == nil {
		opts.Frames = pool.New("test.frames", 16, func() *schema.WsFrame { return &schema.WsFrame{} }, &pool.Options{CaptureStacks: true})
	}
	if opts.Clock == nil {
		opts.Clock = h.clock
	}
	if user := opts.OnEvent; user != nil {
		opts.OnEvent = func(ev Event) { h.rec.on(ev); user(ev) }
	} else {
		opts.OnEvent = h.rec.on
	}
	h.frames = opts.Frames
	c, err := New(url, k.handle, opts)
	require.NoError(t, err)
	h.c = c
	go func() { h.runErr <- c.Run(context.Background()) }()
	t.Cleanup(func() { _ = h.close(context.Background()) }) // after a failure
	return h
}

// close closes the client while moving its fake clock on, for a venue
// that never answers the close handshake: the handshake's bound
// (Options.CloseTimeout) runs on that clock.
func (h *harness) close(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- h.c.Close(ctx) }()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			if h.clock != nil && h.c.opts.Clock == Clock(h.clock) {
				h.clock.advance(h.c.opts.CloseTimeout)
			}
		}
	}
}

// finish closes the client and the venue (then runs after) and checks that
// Run returned, every frame is back and no goroutine is left.
func (h *harness) finish(v *venue, after ...func()) {
	t := h.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, h.close(ctx))
	require.NoError(t, h.c.Close(ctx), "Close is idempotent")
	select {
	case err := <-h.runErr:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("Run did not return")
	}
	require.Equal(t, schema.ConnClosed, h.c.State())
	require.Zero(t, h.frames.Stats().InUse, "frames not returned")
	require.NoError(t, h.frames.Shutdown(ctx))
	if v != nil {
		v.close()
	}
	for _, f := range after {
		f()
	}
	goleak.VerifyNone(t, h.leaks)
}

// advanceUntil moves the client's fake clock on by step until cond holds.
func (h *harness) advanceUntil(step time.Duration, what string, cond func() bool) {
	h.t.Helper()
	require.Eventually(h.t, func() bool {
		if cond() {
			return true
		}
		h.clock.advance(step)
		return cond()
	}, wait, time.Millisecond, "%s; events: %v", what, h.rec.all())
}

// lostConn1 is true once connection 1 was reported lost.
func (h *harness) lostConn1() bool {
	return h.rec.count(func(ev Event) bool { return ev.State == schema.ConnDisconnected && ev.ConnID == 1 }) > 0
}

// live returns the connection that delivers now.
func (h *harness) live() *conn {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	return h.c.cur
}

// requireResubscribed checks that connection n received the subscriptions
// again, in order.
func requireResubscribed(t *testing.T, v *venue, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(v.received(n)) >= len(testSubs) }, wait, time.Millisecond)
	require.Equal(t, testSubs, v.received(n)[:len(testSubs)])
}

// requireRecovered checks the visible sequence after connection 1 is lost
// for want: Disconnected with that reason, Reconnecting, Connected on
// connection 2 with the subscriptions sent again, within bounded time.
func requireRecovered(t *testing.T, h *harness, v *venue, want Reason) Event {
	t.Helper()
	lost := h.rec.waitFor(t, "disconnected", func(ev Event) bool {
		return ev.State == schema.ConnDisconnected && ev.ConnID == 1
	})
	require.Equal(t, want, lost.Reason, "reason; err %v", lost.Err)
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.Equal(t, 1, re.Attempt)
	require.Equal(t, want, re.Reason)
	h.rec.waitFor(t, "connected on 2", connected(2))
	requireResubscribed(t, v, 2)
	require.GreaterOrEqual(t, h.c.Stats().Reconnects[want], uint64(1))
	return lost
}

var errJunk = errors.New("not JSON")

// subscribingVenue starts a venue each of whose sessions sends its number
// (1 for the first connection) on subscribed, then reads whatever the
// client sends until the client or the test ends it.
func subscribingVenue(t *testing.T) (v *venue, subscribed chan int) {
	t.Helper()
	subscribed = make(chan int, 4)
	v = newVenue(t, func(s *session) {
		subscribed <- s.n
		s.readForever()
		<-s.ctx.Done()
	})
	return v, subscribed
}

// pacedRotationOptions are rotationOptions for one rotation asked for by
// the test (no MaxAge), with the default ControlRate: each connection's
// second subscription waits 250 ms on fc, and waits for the test to move
// it (blockSlp). The caller sets h.clock = fc once started.
func pacedRotationOptions() (*Options, *fakeClock) {
	opts := rotationOptions()
	opts.MaxAge, opts.RotationOverlap = 0, s36rotOverlap
	opts.ControlRate = 0
	fc := newFakeClock()
	fc.blockSlp = true
	opts.Clock = fc
	return opts, fc
}

// upPaced waits until connection 1 of a client started with
// pacedRotationOptions on a subscribingVenue is live and has sent both
// subscriptions, moving the clock on for the second.
func upPaced(t *testing.T, h *harness, v *venue, subscribed chan int) {
	t.Helper()
	liveConn1(t, h)
	require.Equal(t, 1, recvWait(t, subscribed, "connection 1 dialled"))
	h.advanceUntil(250*time.Millisecond, "connection 1 subscribed", func() bool { return len(v.received(1)) == len(testSubs) })
}
