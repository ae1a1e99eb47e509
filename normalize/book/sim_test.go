package book

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// simPipeline is the real wiring against the simulated Binance: wsclient →
// Binance parser → Books → dispatcher, with the book fetching its snapshots
// from the venue's REST depth endpoint. Markers are read from a dispatcher
// subscription.
type simPipeline struct {
	v       *venuesim.Venue
	pools   *schema.Pools
	d       *dispatch.Dispatcher
	books   *Books
	book    *Book
	client  *wsclient.Client
	markers *dispatch.Subscription
	rest    *BinanceREST
	runErr  chan error
}

// markSink is the stage a test puts between the parser and the books to
// tamper with one diff, or to drop the parser's backwards markers.
type markSink struct {
	next Sink
	// armed: stamp the next diff past after (a book sequence) with a
	// wrong checksum. Diffs up to after may still be in flight behind
	// the book's snapshot, which covers them: the book drops those as
	// repeats without checking anything.
	armed atomic.Bool
	after atomic.Uint64
	// backwards, when set, drops (and counts) the parser's markers of a
	// book sequence going backwards: repeats, which the parser reports
	// until it decides with the continuity rules the book uses.
	backwards *atomic.Int64
	events    *pool.Pool[*schema.CanonicalEvent]
}

func (s *markSink) Publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	if ev.Type == schema.EventBookUpdate && ev.Book.LastSeq > s.after.Load() && s.armed.CompareAndSwap(true, false) {
		ev.Book.Checksum, ev.Book.HasChecksum = 1, true
	}
	if s.backwards != nil && ev.Type == schema.EventGap && strings.Contains(ev.Control.Reason, "backwards") {
		s.backwards.Add(1)
		s.events.Put(ev)
		return nil
	}
	return s.next.Publish(ctx, ev)
}

func startSim(t *testing.T, rule Rule, stage *markSink) *simPipeline {
	t.Helper()
	return startSimClock(t, rule, stage, nil)
}

// startSimClock starts the pipeline with clock timing the client's
// backoff (nil: the real clock). The client reports its state to the
// books through Books.OnEvent, the documented wiring, and nothing else.
func startSimClock(t *testing.T, rule Rule, stage *markSink, clock wsclient.Clock) *simPipeline {
	t.Helper()
	return startSimWith(t, rule, stage, func(o *wsclient.Options) { o.Clock = clock })
}

// startSimWith starts the pipeline with the client's options changed by
// tune.
func startSimWith(t *testing.T, rule Rule, stage *markSink, tune func(*wsclient.Options)) *simPipeline {
	t.Helper()
	p := &simPipeline{runErr: make(chan error, 1)}
	p.v = venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 400, PingInterval: -1, DepthLevels: 50})
	p.pools = schema.NewPools(nil)
	p.d = dispatch.New(p.pools.Events, nil)
	var err error
	p.markers, err = p.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventGap}}, &dispatch.SubscribeOptions{CriticalBound: 1 << 14})
	require.NoError(t, err)

	syms := normalize.NewBinanceSymbols()
	resp, err := http.Get(p.v.RESTURL() + "/api/v3/exchangeInfo")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	ins, err := normalize.ParseBinanceExchangeInfo(body)
	require.NoError(t, err)
	require.NoError(t, syms.Load(ins))

	p.rest = &BinanceREST{BaseURL: p.v.RESTURL(), Limit: 5000, VenueSymbol: syms.VenueSymbol}
	p.book, err = NewBook(rule, "BTC-USDT", &Options{Sink: p.d, Events: p.pools.Events, Fetcher: p.rest})
	require.NoError(t, err)
	p.books = NewBooks(p.d, p.pools.Events, nil)
	p.books.Add(p.book)
	var sink Sink = p.books
	if stage != nil {
		stage.next, stage.events = p.books, p.pools.Events
		sink = stage
	}
	parser := normalize.NewBinance(p.pools.Events, sink, &normalize.Options{Symbols: syms})
	opts := wsclient.Options{
		Venue:        schema.VenueBinance,
		Frames:       p.pools.Frames,
		PingInterval: -1,
		IdleTimeout:  -1,
		BackoffBase:  time.Millisecond,
		BackoffCap:   10 * time.Millisecond,
		OnEvent:      p.books.OnEvent(schema.VenueBinance, nil),
	}
	tune(&opts)
	p.client, err = wsclient.New(p.v.StreamURL("btcusdt@depth@100ms"), parser.HandleFrame, &opts)
	require.NoError(t, err)
	go func() { p.runErr <- p.client.Run(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, p.client.Close(ctx))
		if err := <-p.runErr; err != nil {
			require.ErrorIs(t, err, context.Canceled)
		}
		p.v.Close()
		require.NoError(t, p.d.Unsubscribe(p.markers))
		require.NoError(t, p.d.Close(ctx))
		require.NoError(t, p.pools.Shutdown(ctx))
	})
	return p
}

// waitMarker waits for the book's next gap marker (the parser's own gap
// events carry another reason) and returns it.
func (p *simPipeline) waitMarker(t *testing.T) *schema.CanonicalEvent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-p.markers.C():
			if strings.HasPrefix(ev.Control.Reason, "book:") {
				return ev
			}
		case <-deadline:
			t.Fatal("no gap marker from the book")
		}
	}
}

// requireSynced holds the venue still, takes its REST snapshot and waits
// for the book to reach the same update id, then compares every level:
// the book is exactly the venue's, nothing stale in it.
func (p *simPipeline) requireSynced(t *testing.T) {
	t.Helper()
	require.Eventually(t, p.book.Live, 10*time.Second, time.Millisecond, "book never live")
	p.v.Pause(true)
	defer p.v.Pause(false)
	var want schema.CanonicalEvent
	require.Eventually(t, func() bool {
		want.Reset()
		if err := p.rest.Fetch(context.Background(), "BTC-USDT", &want); err != nil {
			return false
		}
		return p.book.LastSeq() == want.Book.LastSeq && p.book.Live()
	}, 10*time.Second, 5*time.Millisecond, "book never caught up with the venue")
	var got schema.CanonicalEvent
	p.book.Top(0, &got)
	require.Equal(t, levelText(want.Book.Bids), levelText(got.Book.Bids))
	require.Equal(t, levelText(want.Book.Asks), levelText(got.Book.Asks))
}

func levelText(ls []schema.Level) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Price.String() + " " + l.Qty.String()
	}
	return out
}

// Against the simulated venue: the book syncs from the REST snapshot, then
// a depth gap (FaultDepthGap), a bad checksum and a reconnect (FaultClose)
// each invalidate it, publish a marker through the dispatcher and end with
// a book identical to the venue's.
func TestSimResync(t *testing.T) {
	t.Run("gap", func(t *testing.T) {
		p := startSim(t, Binance, nil)
		p.requireSynced(t)
		before := p.book.Stats()
		require.Positive(t, p.v.Inject(venuesim.FaultDepthGap))
		m := p.waitMarker(t)
		require.Contains(t, []string{ReasonGap, ReasonUpstream}, m.Control.Reason)
		require.Equal(t, "BTC-USDT", m.Symbol)
		p.requireSynced(t)
		after := p.book.Stats()
		require.Equal(t, before.Invalidations+1, after.Invalidations)
		require.Greater(t, after.Fetches, before.Fetches)
	})
	t.Run("checksum", func(t *testing.T) {
		// Binance sends no checksum: give the rule OKX's and stamp one
		// diff with a wrong one, the others with none.
		rule := Binance
		rule.Checksum, rule.ChecksumDepth = ChecksumOKX, 25
		stage := &markSink{}
		p := startSim(t, rule, stage)
		p.requireSynced(t)
		stage.after.Store(p.book.LastSeq())
		stage.armed.Store(true)
		m := p.waitMarker(t)
		require.Equal(t, ReasonChecksum, m.Control.Reason)
		p.requireSynced(t)
		require.Equal(t, uint64(1), p.book.Stats().ChecksumErrors)
	})
	t.Run("reconnect", func(t *testing.T) {
		p := startSim(t, Binance, nil)
		p.requireSynced(t)
		require.Positive(t, p.v.Inject(venuesim.FaultClose))
		m := p.waitMarker(t)
		require.Contains(t, []string{ReasonReconnect, ReasonUpstream, ReasonGap}, m.Control.Reason)
		p.requireSynced(t)
		require.Positive(t, p.book.Stats().Invalidations)
	})
}

// Make-before-break rotation delivers the overlap twice: the new
// connection's first diffs repeat what the book already applied. Through
// real rotations against the simulated venue, the book drops them as
// repeats — never a gap, never a resync — and stays identical to the
// venue's.
func TestSimRotationRepeats(t *testing.T) {
	var backwards atomic.Int64
	stage := &markSink{backwards: &backwards}
	p := startSimWith(t, Binance, stage, func(o *wsclient.Options) {
		o.MaxAge = 400 * time.Millisecond
		// The overlap bounds how long the old connection may lag the new
		// one before the switch goes unaligned and diffs may be lost (a
		// resync). Aligned, the switch comes at once; on a starved
		// single-CPU run the old reader lagged by more than 300 ms.
		o.RotationOverlap = 5 * time.Second
	})
	p.requireSynced(t)
	fetches := p.book.Stats().Fetches
	require.Eventually(t, func() bool { return p.client.Stats().Rotations >= 2 && p.book.Stats().Stale > 0 },
		30*time.Second, 5*time.Millisecond, "no rotation delivered a repeat")
	require.Zero(t, p.client.Stats().Unaligned, "a switch went unaligned: the old connection lagged past RotationOverlap")
	p.requireSynced(t)
	st := p.book.Stats()
	require.Zero(t, st.Gaps)
	require.Zero(t, st.Invalidations)
	require.Zero(t, st.Markers)
	require.Equal(t, fetches, st.Fetches)
	t.Logf("rotations %d, repeats dropped %d, parser backwards markers %d", p.client.Stats().Rotations, st.Stale, backwards.Load())
}
