package contracttest_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// waitFor bounds every wait of a test: generous, for a loaded machine; a
// test that needs it has failed.
const waitFor = 30 * time.Second

// venue is a WebSocket server on loopback that plays the venue: each
// accepted connection is handed to the test, which writes the venue's
// messages on it; what the client sends is collected.
type venue struct {
	srv   *httptest.Server
	conns chan *websocket.Conn
	gone  chan struct{} // closed when the test ends

	mu       sync.Mutex
	received [][]byte // text messages the client sent, on any connection
}

// startVenue starts the venue. A deaf venue never reads what the client
// sends: it answers neither pings nor the close handshake, as a venue
// whose process hangs with its socket open.
func startVenue(t *testing.T, deaf bool) *venue {
	t.Helper()
	v := &venue{conns: make(chan *websocket.Conn, 16), gone: make(chan struct{})}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.SetReadLimit(-1)
		v.conns <- c
		if deaf {
			<-v.gone
			c.CloseNow() //nolint:errcheck // the test is over
			return
		}
		// Read until the client goes: this answers its pings and its
		// close handshake, and records its subscriptions.
		for {
			_, msg, err := c.Read(context.Background())
			if err != nil {
				c.CloseNow() //nolint:errcheck // the connection is gone either way
				return
			}
			v.mu.Lock()
			v.received = append(v.received, msg)
			v.mu.Unlock()
		}
	}))
	t.Cleanup(func() {
		close(v.gone)
		v.srv.Close()
	})
	return v
}

func (v *venue) url() string { return "ws" + v.srv.URL[len("http"):] }

// next returns the next connection the client opened.
func (v *venue) next(t *testing.T) *websocket.Conn {
	t.Helper()
	select {
	case c := <-v.conns:
		return c
	case <-time.After(waitFor):
		t.Fatal("the client never connected")
		return nil
	}
}

func (v *venue) receivedCount(msg []byte) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for _, m := range v.received {
		if bytes.Equal(m, msg) {
			n++
		}
	}
	return n
}

func send(t *testing.T, c *websocket.Conn, msgs ...[]byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for _, m := range msgs {
		require.NoError(t, c.Write(ctx, websocket.MessageText, m))
	}
}

// pipeline is the path of DESIGN.md's diagram, composed by hand as a host
// would: venue → wsclient → normalize (Binance) → dispatch.
type pipeline struct {
	pools  *schema.Pools
	disp   *dispatch.Dispatcher
	parser *normalize.Parser
	client *wsclient.Client
	clock  *fakeClock
	venue  *venue
	events chan wsclient.Event
}

// startPipeline starts the pipeline on a venue of its own and waits for
// its first connection, which it returns. edit may change the client's
// options.
func startPipeline(t *testing.T, edit func(*wsclient.Options)) (*pipeline, *websocket.Conn) {
	t.Helper()
	return startPipelineOn(t, startVenue(t, false), edit)
}

// startPipelineOn is startPipeline on the venue v.
func startPipelineOn(t *testing.T, v *venue, edit func(*wsclient.Options)) (*pipeline, *websocket.Conn) {
	t.Helper()
	p := &pipeline{
		pools:  schema.NewPools(nil),
		clock:  newFakeClock(),
		venue:  v,
		events: make(chan wsclient.Event, 1024),
	}
	p.disp = dispatch.New(p.pools.Events, nil)
	p.parser = normalize.NewBinance(p.pools.Events, p.disp, nil)
	opts := &wsclient.Options{
		Venue:        schema.VenueBinance,
		Frames:       p.pools.Frames,
		Clock:        p.clock,
		CloseTimeout: -1,
		OnEvent: func(e wsclient.Event) {
			select {
			case p.events <- e:
			default:
			}
		},
	}
	if edit != nil {
		edit(opts)
	}
	client, err := wsclient.New(p.venue.url(), p.parser.HandleFrame, opts)
	require.NoError(t, err)
	p.client = client
	runDone := make(chan error, 1)
	go func() { runDone <- client.Run(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		require.NoError(t, client.Close(ctx))
		require.NoError(t, <-runDone)
		require.NoError(t, p.disp.Close(ctx))
		// Contract 1: every pooled object taken on the way came back.
		require.NoError(t, p.pools.Shutdown(ctx), "objects never returned to their pools")
	})
	c := p.venue.next(t)
	p.waitState(t, schema.ConnConnected)
	return p, c
}

// waitState waits for the client to report state and returns that event.
func (p *pipeline) waitState(t *testing.T, state schema.ConnState) wsclient.Event {
	t.Helper()
	return p.waitEvent(t, state.String(), func(e wsclient.Event) bool { return e.State == state })
}

// waitEvent returns the client's first event from now on that matches.
func (p *pipeline) waitEvent(t *testing.T, what string, match func(wsclient.Event) bool) wsclient.Event {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case e := <-p.events:
			if match(e) {
				return e
			}
		case <-deadline:
			t.Fatalf("the client never reported %s", what)
		}
	}
}

// advanceUntil moves the clock from one armed timer to the next, as long
// as the next is due within limit of the start, until the client reports
// state, and returns that event: the client's watchdogs sample on timers
// of their own, which the test does not need to know. Past limit it only
// waits for the event. Give the client a backoff longer than limit, so
// that the clock does not run into the redial before the event arrives.
func (p *pipeline) advanceUntil(t *testing.T, state schema.ConnState, limit time.Duration) wsclient.Event {
	t.Helper()
	start := p.clock.Now()
	for {
		select {
		case e := <-p.events:
			if e.State == state {
				return e
			}
			continue
		default:
		}
		var next time.Duration
		require.Eventually(t, func() bool {
			var ok bool
			next, ok = p.clock.nextDue()
			return ok || len(p.events) > 0
		}, waitFor, time.Millisecond, "nothing armed on the clock, and no %s", state)
		if p.clock.Now().Add(next).Sub(start) > limit {
			return p.waitState(t, state)
		}
		p.clock.Advance(next)
	}
}

// waitAccepted waits until sub has accepted n events: published to it and
// now delivered, queued, in hand, dropped, coalesced or discarded (the
// identity of dispatch.Stats: accepted + Gaps = Delivered + Depth + InHand +
// Dropped + Coalesced + Discarded). The parser's own counts are no
// substitute: it counts a message before it publishes the event.
func waitAccepted(t *testing.T, sub *dispatch.Subscription, n uint64) {
	t.Helper()
	accepted := func() uint64 {
		st := sub.Stats()
		return st.Delivered + uint64(st.Depth) + uint64(st.InHand) + st.Dropped + st.Coalesced + st.Discarded - st.Gaps
	}
	require.Eventually(t, func() bool { return accepted() >= n }, waitFor, time.Millisecond,
		"the subscription accepted %d of %d events", accepted(), n)
}

// sample reads one of the venue samples the repository ships.
func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "venues", name))
	require.NoError(t, err)
	return b
}

// withMember returns a copy of the JSON object msg with the value of one
// member replaced: key is the member's name, value its new JSON text. The
// member must be there.
func withMember(t *testing.T, msg []byte, key, value string) []byte {
	t.Helper()
	name := []byte(strconv.Quote(key))
	i := bytes.Index(msg, name)
	require.GreaterOrEqual(t, i, 0, "no member %s", key)
	j := i + len(name)
	for j < len(msg) && (msg[j] == ' ' || msg[j] == '\t' || msg[j] == ':') {
		j++
	}
	k := j
	if msg[k] == '"' {
		k++
		for msg[k] != '"' {
			k++
		}
		k++
	} else {
		for k < len(msg) && msg[k] != ',' && msg[k] != '}' && msg[k] != '\n' {
			k++
		}
	}
	out := append([]byte{}, msg[:j]...)
	out = append(out, value...)
	return append(out, msg[k:]...)
}

// trade is Binance's documented trade sample with its id, price and
// symbol set.
func trade(t *testing.T, id int, price, symbol string) []byte {
	m := sample(t, "binance_trade.json")
	m = withMember(t, m, "t", strconv.Itoa(id))
	m = withMember(t, m, "p", strconv.Quote(price))
	return withMember(t, m, "s", strconv.Quote(symbol))
}

// quote is Binance's documented spot bookTicker sample with its update id
// and bid price set.
func quote(t *testing.T, u int, bid, symbol string) []byte {
	m := sample(t, "binance_combined_bookTicker.json")
	m = bytes.Replace(m, []byte("nknusdt"), bytes.ToLower([]byte(symbol)), 1)
	m = withMember(t, m, "u", strconv.Itoa(u))
	m = withMember(t, m, "b", strconv.Quote(bid))
	return withMember(t, m, "s", strconv.Quote(symbol))
}

// fill is Binance's documented executionReport sample (a fill) with its
// trade id set.
func fill(t *testing.T, tradeID int) []byte {
	m := sample(t, "binance_executionReport_trade.json")
	return withMember(t, m, "t", strconv.Itoa(tradeID))
}

// gate holds a handler until released: a subscriber stuck in its
// handler. Tests defer release, so that a test that fails while the
// handler is held does not leave Close waiting for it.
type gate struct {
	once, released sync.Once
	entered        chan struct{}
	open           chan struct{}
}

func (g *gate) release() { g.released.Do(func() { close(g.open) }) }

// held waits until the handler is held.
func (g *gate) held(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(waitFor):
		t.Fatal("nothing reached the handler")
	}
}

func newGate() *gate { return &gate{entered: make(chan struct{}), open: make(chan struct{})} }

func (g *gate) wait() {
	g.once.Do(func() { close(g.entered) })
	<-g.open
}

// recorder collects what a subscription's handler received, in order.
type recorder struct {
	mu  sync.Mutex
	got []*schema.CanonicalEvent
}

func (r *recorder) add(ev *schema.CanonicalEvent) {
	r.mu.Lock()
	r.got = append(r.got, ev)
	r.mu.Unlock()
}

func (r *recorder) events() []*schema.CanonicalEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*schema.CanonicalEvent(nil), r.got...)
}

// drained waits until sub has nothing queued or in hand.
func drained(t *testing.T, sub *dispatch.Subscription) {
	t.Helper()
	require.Eventually(t, func() bool {
		st := sub.Stats()
		return st.Depth == 0 && st.InHand == 0
	}, waitFor, time.Millisecond)
}

func errorsAs[T error](err error) (T, bool) {
	var target T
	ok := errors.As(err, &target)
	return target, ok
}
