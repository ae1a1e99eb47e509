package meltica_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s25ctVenue is a Binance-shaped venue on loopback (coder/websocket
// Accept): it writes msgs on every connection, then holds the connection
// until the client or the test ends it.
func s25ctVenue(t *testing.T, msgs [][]byte) (url string, sent <-chan struct{}) {
	t.Helper()
	done := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		ctx := c.CloseRead(r.Context())
		for _, m := range msgs {
			if err := c.Write(ctx, websocket.MessageText, m); err != nil {
				return
			}
		}
		once.Do(func() { close(done) })
		<-ctx.Done()
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), done
}

// s25ctStream writes n rounds of a Binance spot stream of one symbol: a
// trade (t = i), a best bid/offer (u = i, bid price i) and, every tenth
// round, an execution report of its own order (i) and fill (t = i), in
// Binance's own layouts ("WebSocket Streams": Trade Streams, Individual
// Symbol Book Ticker Streams; "User Data Streams": executionReport). The
// last message is a best bid/offer u = n+1: the venue's latest state.
func s25ctStream(n int) (msgs [][]byte, reports int) { return s25ctStreamFrom(n, 0) }

// s25ctStreamFrom is s25ctStream with every id (trade, quote, order,
// fill) past from.
func s25ctStreamFrom(n, from int) (msgs [][]byte, reports int) {
	for k := 1; k <= n; k++ {
		i := from + k
		msgs = append(msgs, fmt.Appendf(nil, `{"e":"trade","E":%d,"s":"BTCUSDT","t":%d,"p":"%d.00","q":"0.001","T":%d,"m":true}`, 1700000000000+k, i, 60000+k, 1700000000000+k))
		msgs = append(msgs, fmt.Appendf(nil, `{"u":%d,"s":"BTCUSDT","b":"%d.00","B":"1","a":"%d.01","A":"2"}`, i, 60000+k, 60000+k))
		if k%10 == 0 {
			reports++
			msgs = append(msgs, fmt.Appendf(nil, `{"e":"executionReport","E":%d,"s":"BTCUSDT","c":"c%d","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"60000.00","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":%d,"l":"0.01000000","z":"0.01000000","L":"60000.00","n":"0","N":"BNB","T":%d,"t":%d,"I":1,"w":false,"m":false,"M":true,"O":1700000000000,"Z":"600.00","Y":"600.00","Q":"0"}`, 1700000000000+k, i, i, 1700000000000+k, i))
		}
	}
	msgs = append(msgs, fmt.Appendf(nil, `{"u":%d,"s":"BTCUSDT","b":"1.00","B":"1","a":"2.00","A":"2"}`, from+n+1))
	return msgs, reports
}

// s25ctRecorder is a subscriber that keeps every clone it is given with
// its rendering at delivery, and may be held still (a slow consumer).
type s25ctRecorder struct {
	hold chan struct{} // closed to let the handler go on; nil: never held
	mu   sync.Mutex
	evs  []*schema.CanonicalEvent
	seen []string
	last map[schema.EventType]uint64 // highest SeqProvider delivered per type
	n    map[schema.EventType]int    // events delivered per type
}

func (r *s25ctRecorder) handle(ev *schema.CanonicalEvent) {
	if r.hold != nil {
		<-r.hold
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
	r.seen = append(r.seen, s25ctShow(ev))
	if r.last == nil {
		r.last, r.n = map[schema.EventType]uint64{}, map[schema.EventType]int{}
	}
	r.n[ev.Type]++
	if ev.SeqProvider > r.last[ev.Type] {
		r.last[ev.Type] = ev.SeqProvider
	}
}

func (r *s25ctRecorder) snapshot() []*schema.CanonicalEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*schema.CanonicalEvent(nil), r.evs...)
}

// caughtUp reports whether r has the last trade (drop-oldest keeps the
// newest), the last quote (latest wins) and every execution report.
func (r *s25ctRecorder) caughtUp(trade, bbo uint64, reports int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last[schema.EventTrade] == trade && r.last[schema.EventBBO] == bbo && r.n[schema.EventExecReport] == reports
}

func (r *s25ctRecorder) lastSeq(t schema.EventType) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last[t]
}

// The whole path of the module doc — a venue on loopback, wsclient,
// normalize, dispatch — with one subscriber held still while the venue
// sends 2,000 trades, 2,000 best bid/offers and 200 execution reports
// (a quarter of them under -race), and one that keeps up. The contracts (DESIGN.md 1, 3, 4; README):
//   - every execution report reaches both, in order, none lost however
//     full the slow one's queues (its critical bound is 4: the lane grows);
//   - best bid/offers are latest-wins: never one older than one delivered
//     before it, and the last delivered is the venue's last;
//   - trades are never reordered; every trade missing from the slow
//     subscriber's stream is counted in a gap marker delivered before the
//     trade that follows the hole (never silently stale);
//   - the clones the subscribers keep never change afterwards;
//   - after Close every pooled object is back (Shutdown nil), no goroutine
//     is left (TestMain's goleak).
//
// With pool.Options.CaptureStacks, every pooled object is fresh and any
// Put after the first of a checkout panics (pool/doc.go): the same run
// then proves each pooled frame and event is returned exactly once.
func TestS25ctPipelineSlowConsumer(t *testing.T) {
	for _, capture := range []bool{false, true} {
		t.Run(fmt.Sprintf("CaptureStacks=%v", capture), func(t *testing.T) {
			s25ctPipelineSlowConsumer(t, &pool.Options{CaptureStacks: capture})
		})
	}
}

func s25ctPipelineSlowConsumer(t *testing.T, opts *pool.Options) {
	// Under -race 500 rounds (1,050 messages): 15 s of the root package's
	// run at load 14, a quarter of it rendering the subscribers' clones;
	// the slow subscriber's ordered lane (16) overflows and its quotes
	// coalesce all the same (asserted below). CI's run without the race
	// detector (the coverage step) runs the 2,000.
	rounds := 2000
	if raceEnabled {
		rounds = 500
	}
	msgs, reports := s25ctStream(rounds)
	url, sent := s25ctVenue(t, msgs)

	ctx := context.Background()
	pools := schema.NewPools(opts)
	d := dispatch.New(pools.Events, nil)
	slow := &s25ctRecorder{hold: make(chan struct{})}
	fast := &s25ctRecorder{}
	slowSub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: slow.handle, OrderedBound: 16, CriticalBound: 4, Name: "slow"})
	require.NoError(t, err)
	_, err = d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: fast.handle, Name: "fast"})
	require.NoError(t, err)
	p := normalize.NewBinance(pools.Events, d, nil)
	c, err := wsclient.New(url, p.HandleFrame, &wsclient.Options{Venue: schema.VenueBinance, Frames: pools.Frames})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- c.Run(runCtx) }()

	<-sent
	require.Eventually(t, func() bool { return p.Stats().Messages == uint64(len(msgs)) }, time.Minute, time.Millisecond, "the parser read every message")
	require.Eventually(t, func() bool { return fast.lastSeq(schema.EventBBO) == uint64(rounds)+1 }, time.Minute, time.Millisecond)
	st := slowSub.Stats()
	t.Logf("slow subscriber before release: %+v", st)
	close(slow.hold)
	require.Eventually(t, func() bool {
		// A coalesced quote keeps its place in line (dispatch/doc.go), so
		// the last quote may come before trades published ahead of it.
		return slow.caughtUp(uint64(rounds), uint64(rounds)+1, reports) && fast.caughtUp(uint64(rounds), uint64(rounds)+1, reports)
	}, time.Minute, time.Millisecond, "both subscribers catch up with the venue's last trade, quote and report")

	for name, r := range map[string]*s25ctRecorder{"slow": slow, "fast": fast} {
		evs := r.snapshot()
		var execs []uint64
		var bbo, trade uint64
		var trades, lost uint64
		var pending uint64 // trades announced lost, not yet skipped over
		for _, ev := range evs {
			switch ev.Type {
			case schema.EventExecReport:
				id, err := strconv.ParseUint(ev.Exec.VenueOrderID.String(), 10, 64)
				require.NoError(t, err)
				execs = append(execs, id)
			case schema.EventBBO:
				assert.Greater(t, ev.SeqProvider, bbo, "%s: a best bid/offer older than one delivered before it", name)
				bbo = ev.SeqProvider
			case schema.EventTrade:
				assert.Greater(t, ev.SeqProvider, trade, "%s: trades reordered", name)
				if hole := ev.SeqProvider - trade - 1; hole > 0 {
					assert.GreaterOrEqual(t, pending, hole, "%s: trades %d..%d missing without a gap marker before trade %d", name, trade+1, ev.SeqProvider-1, ev.SeqProvider)
					pending -= min(pending, hole)
				}
				trade = ev.SeqProvider
				trades++
			case schema.EventGap:
				if ev.Control.GapType == schema.EventTrade {
					assert.NotZero(t, ev.Control.GapCount, "%s: a subscriber queue knows how many it dropped", name)
					lost += ev.Control.GapCount
					pending += ev.Control.GapCount
				}
			}
		}
		require.Len(t, execs, reports, "%s: every execution report delivered", name)
		for i, id := range execs {
			assert.Equal(t, uint64(10*(i+1)), id, "%s: execution reports in order", name)
		}
		assert.Equal(t, uint64(rounds+1), bbo, "%s: the last quote delivered is the venue's last", name)
		assert.Equal(t, uint64(rounds), trades+lost, "%s: trades delivered + trades announced lost", name)
		t.Logf("%s: %d events, %d trades delivered, %d announced lost", name, len(evs), trades, lost)
	}
	st = slowSub.Stats()
	assert.Positive(t, st.Dropped, "the slow subscriber's ordered lane overflowed (else this test proves nothing)")
	assert.Positive(t, st.Coalesced, "its quotes coalesced")

	require.NoError(t, c.Close(ctx))
	cancel()
	s25ctRunEnded(t, <-ran)
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx), "every pooled object came back")
	// The subscribers' clones are theirs: nothing the pipeline did after
	// delivering them — the frames and events reused for thousands of
	// later messages, the pools shut down — changed one of them.
	for name, r := range map[string]*s25ctRecorder{"slow": slow, "fast": fast} {
		for i, ev := range r.snapshot() {
			require.Equal(t, r.seen[i], s25ctShow(ev), "%s: clone %d changed after delivery", name, i)
		}
	}
}

// s25ctRunEnded checks what a client's Run returned after Close or the end
// of its context (wsclient: "ErrClosed is returned by Run ... after
// Close").
func s25ctRunEnded(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, wsclient.ErrClosed) && !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
}
