package dispatch

// Adversarial tests written apart from the implementation (reviewer R1).

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// longCtx is a context whose deadline is far beyond any test: a Close that
// wrongly waits for a reader hangs on it, and the test's own generous
// deadline (never an assertion on elapsed time) reports the hang.
func longCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	t.Cleanup(cancel)
	return ctx
}

func awaitErr(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal(what + " did not return")
		return nil
	}
}

// A handler that panics must not kill the publisher, the other
// subscribers or its own later deliveries: the panic is recovered, counted
// and logged, and delivery goes on with the next event.
func TestAdversarialHandlerPanic(t *testing.T) {
	t.Parallel()
	p := newEventPool(16)
	var logs bytes.Buffer
	d := New(p, &Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	var mu sync.Mutex
	var survived []uint64
	bad, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		if ev.SeqProvider%2 == 1 {
			panic("strategy bug")
		}
		if ev.SeqProvider%3 == 0 {
			var s []int
			_ = s[ev.SeqProvider] // a runtime error, not a string panic
		}
		mu.Lock()
		survived = append(survived, ev.SeqProvider)
		mu.Unlock()
	}})
	require.NoError(t, err)
	good := &recorder{}
	_, err = d.Subscribe(Filter{}, &SubscribeOptions{Handler: good.handle})
	require.NoError(t, err)
	ch, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)

	const n = 40
	read := make(chan int)
	go func() {
		c := 0
		for range ch.C() {
			c++
		}
		read <- c
	}()
	for i := uint64(1); i <= n; i++ {
		typ := schema.EventTrade
		if i%4 == 0 {
			typ = schema.EventExecReport
		}
		publish(t, d, p, bin, "BTC-USDT", typ, i)
	}
	closed := make(chan error, 1)
	go func() { closed <- d.Close(longCtx(t)) }()
	require.NoError(t, awaitErr(t, closed, "Close"))
	assert.Equal(t, n, <-read)
	assert.Len(t, good.got(), n)
	mu.Lock()
	defer mu.Unlock()
	var want []uint64
	for i := uint64(1); i <= n; i++ {
		if i%2 == 0 && i%3 != 0 {
			want = append(want, i)
		}
	}
	// Execution reports overtake trades (critical lane), so compare as sets.
	assert.ElementsMatch(t, want, survived, "the panicking subscriber still got every later event")
	st := bad.Stats()
	assert.Equal(t, uint64(n), st.Delivered)
	assert.Equal(t, uint64(n-len(want)), st.Panics)
	assert.Zero(t, p.Stats().InUse)
	// Close waited for the handlers, so the log is complete.
	assert.Contains(t, logs.String(), "level=ERROR")
	assert.Contains(t, logs.String(), "strategy bug")
	assert.Contains(t, logs.String(), "index out of range")
	assert.Contains(t, logs.String(), "TestAdversarialHandlerPanic", "the stack names the handler")
}

// A merged handler that panics is recovered likewise.
func TestAdversarialMergedHandlerPanic(t *testing.T) {
	t.Parallel()
	mp := pool.New("merged", 4, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	d := New(newEventPool(1), &Options{Merged: mp})
	var got []string
	s, err := d.SubscribeMerged(MergedFilter{}, &MergedOptions{Handler: func(m *schema.MergedEvent) {
		if m.Symbol == "BAD" {
			panic("bad view")
		}
		got = append(got, m.Symbol)
	}})
	require.NoError(t, err)
	for _, sym := range []string{"A", "BAD", "B"} {
		m, err := mp.TryGet()
		require.NoError(t, err)
		m.Symbol, m.Type = sym, schema.EventTrade
		require.NoError(t, d.PublishMerged(context.Background(), m))
	}
	closed := make(chan error, 1)
	go func() { closed <- d.Close(longCtx(t)) }()
	require.NoError(t, awaitErr(t, closed, "Close"))
	assert.Equal(t, []string{"A", "B"}, got)
	assert.Equal(t, uint64(1), s.Stats().Panics)
	assert.Equal(t, uint64(3), s.Stats().Delivered)
}

// Close with a merged channel subscriber that is read only after Close
// returns: Close does not wait for it (as for canonical channel
// subscribers), and the reader then gets everything and the channel is
// closed.
func TestAdversarialCloseMergedChannelReadAfter(t *testing.T) {
	t.Parallel()
	mp := pool.New("merged", 4, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	p := newEventPool(4)
	d := New(p, &Options{Merged: mp})
	ms, err := d.SubscribeMerged(MergedFilter{}, nil)
	require.NoError(t, err)
	cs, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)
	for _, sym := range []string{"A", "B", "C"} {
		m, _ := mp.TryGet()
		m.Symbol, m.Type = sym, schema.EventTrade
		require.NoError(t, d.PublishMerged(context.Background(), m))
		publish(t, d, p, bin, sym, schema.EventTrade, 1)
	}
	closed := make(chan error, 1)
	go func() { closed <- d.Close(longCtx(t)) }()
	require.NoError(t, awaitErr(t, closed, "Close with unread merged and canonical channels"))
	var syms []string
	for m := range ms.C() {
		syms = append(syms, m.Symbol)
	}
	assert.Equal(t, []string{"A", "B", "C"}, syms)
	n := 0
	for range cs.C() {
		n++
	}
	assert.Equal(t, 3, n)
	<-ms.Done()
	<-cs.Done()
	assert.Zero(t, mp.Stats().InUse)
}

// A merged channel reader that stops reading after Close can still end its
// subscription with UnsubscribeMerged, which releases the rest.
func TestAdversarialUnsubscribeMergedAfterClose(t *testing.T) {
	t.Parallel()
	mp := pool.New("merged", 4, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	d := New(newEventPool(1), &Options{Merged: mp})
	ms, err := d.SubscribeMerged(MergedFilter{}, nil)
	require.NoError(t, err)
	for _, sym := range []string{"A", "B"} {
		m, _ := mp.TryGet()
		m.Symbol, m.Type = sym, schema.EventTrade
		require.NoError(t, d.PublishMerged(context.Background(), m))
	}
	closed := make(chan error, 1)
	go func() { closed <- d.Close(longCtx(t)) }()
	require.NoError(t, awaitErr(t, closed, "Close"))
	first := <-ms.C()
	assert.Equal(t, "A", first.Symbol)
	require.NoError(t, d.UnsubscribeMerged(ms))
	select {
	case <-ms.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("merged subscription goroutine still running after UnsubscribeMerged")
	}
	for range ms.C() { // closed; at most the event in flight
	}
	assert.ErrorIs(t, d.UnsubscribeMerged(ms), ErrUnknownSubscription)
}

// Unsubscribe and Subscribe churn while several goroutines publish: no
// panic, no race, every event back in the pool, every goroutine gone.
func TestAdversarialUnsubscribeDuringPublish(t *testing.T) {
	t.Parallel()
	p := newEventPool(64)
	d := New(p, nil)
	const publishers, perPublisher = 3, 300
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range publishers {
		wg.Go(func() {
			<-start
			for i := range perPublisher {
				typ := []schema.EventType{schema.EventTrade, schema.EventBBO, schema.EventExecReport}[i%3]
				ev, err := p.Get(context.Background())
				if !assert.NoError(t, err) {
					return
				}
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, []string{"A", "B"}[g%2], typ, uint64(i+1)
				assert.NoError(t, d.Publish(context.Background(), ev))
			}
		})
	}
	wg.Go(func() {
		<-start
		for i := range 100 {
			var opts SubscribeOptions
			if i%2 == 0 {
				opts.Handler = func(*schema.CanonicalEvent) {}
			}
			s, err := d.Subscribe(Filter{Symbols: []string{"A"}}, &opts)
			if !assert.NoError(t, err) {
				return
			}
			assert.NoError(t, d.Unsubscribe(s))
			assert.ErrorIs(t, d.Unsubscribe(s), ErrUnknownSubscription)
			<-s.Done()
		}
	})
	close(start)
	wg.Wait()
	require.NoError(t, d.Close(longCtx(t)))
	assert.Zero(t, p.Stats().InUse)
}

// Execution reports published while the subscriber is stuck behind a full
// ordered lane and its gap markers are delivered right after the handler
// call in progress, in order, before any marker or market data.
func TestAdversarialExecReportsAheadOfMarkers(t *testing.T) {
	t.Parallel()
	p := newEventPool(8)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{OrderedBound: 2}, schema.EventTrade)
	seq := uint64(1)
	var execs []uint64
	for i := range 60 {
		seq++
		sym := []string{"BTC-USDT", "ETH-USDT", "SOL-USDT"}[i%3]
		typ := schema.EventTrade
		switch {
		case i%7 == 3:
			typ = schema.EventExecReport
			execs = append(execs, seq)
		case i%11 == 5:
			typ = schema.EventOrderAck
			execs = append(execs, seq)
		case i%5 == 0:
			typ = schema.EventBookUpdate
		}
		publish(t, d, p, bin, sym, typ, seq)
	}
	require.Positive(t, s.Stats().Dropped)
	r.open()
	closeDispatcher(t, d)
	got := r.got()
	require.Greater(t, len(got), 1+len(execs))
	var first []uint64
	for _, ev := range got[1 : 1+len(execs)] {
		require.Contains(t, []schema.EventType{schema.EventExecReport, schema.EventOrderAck}, ev.Type, "a critical event waited behind %v", ev.Type)
		first = append(first, ev.SeqProvider)
	}
	assert.Equal(t, execs, first)
	// The markers account for every drop, and each comes between its
	// stream's events: everything of the stream delivered before it is
	// older than what it reports lost (the lane is FIFO, drops oldest
	// first), everything after it newer.
	type stream struct {
		sym string
		typ schema.EventType
	}
	var lost uint64
	newest := map[stream]uint64{}
	reported := map[stream]uint64{}
	for _, ev := range got {
		if ev.Type == schema.EventGap {
			k := stream{ev.Symbol, ev.Control.GapType}
			lost += ev.Control.GapCount
			require.NotZero(t, ev.Control.GapFirstSeq)
			require.Less(t, newest[k], ev.Control.GapFirstSeq, "%v: a marker after newer events of its stream", k)
			reported[k] = ev.Control.GapLastSeq
			continue
		}
		if ev.Type.Critical() {
			continue
		}
		k := stream{ev.Symbol, ev.Type}
		require.Greater(t, ev.SeqProvider, reported[k], "%v: an event older than a loss reported before it", k)
		require.Greater(t, ev.SeqProvider, newest[k], "%v: out of order", k)
		newest[k] = ev.SeqProvider
	}
	assert.Equal(t, s.Stats().Dropped, lost)
	assert.Zero(t, p.Stats().InUse)
}

// Coalescing keeps the latest per (venue, symbol, type), never mixing keys:
// two venues and two types on one symbol are four streams.
func TestAdversarialCoalescingPerKey(t *testing.T) {
	t.Parallel()
	p := newEventPool(8)
	d := New(p, nil)
	r, _ := stalled(t, d, p, SubscribeOptions{}, schema.EventTrade)
	type key struct {
		v   schema.Venue
		typ schema.EventType
	}
	last := map[key]uint64{}
	seq := uint64(1)
	for range 50 {
		for _, v := range []schema.Venue{schema.VenueBinance, schema.VenueCoinbase} {
			for _, typ := range []schema.EventType{schema.EventBBO, schema.EventTicker} {
				seq++
				publish(t, d, p, v, "BTC-USDT", typ, seq)
				last[key{v, typ}] = seq
			}
		}
	}
	r.open()
	closeDispatcher(t, d)
	got := r.got()[1:]
	require.Len(t, got, len(last))
	for _, ev := range got {
		assert.Equal(t, last[key{ev.Venue, ev.Type}], ev.SeqProvider, "%v %v is not the latest", ev.Venue, ev.Type)
	}
}

// The merged lane with a reader that has stopped: views of two symbols
// stay (latest wins, in place), windows past the bound go oldest-first,
// whatever the interleaving.
func TestAdversarialMergedLaneStoppedReader(t *testing.T) {
	t.Parallel()
	mp := pool.New("merged", 4, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	d := New(newEventPool(1), &Options{Merged: mp})
	ms, err := d.SubscribeMerged(MergedFilter{}, &MergedOptions{Bound: 4})
	require.NoError(t, err)
	pub := func(sym string, typ schema.EventType, id uint64) {
		m, err := mp.TryGet()
		require.NoError(t, err)
		m.Symbol, m.Type, m.MergeID = sym, typ, id
		require.NoError(t, d.PublishMerged(context.Background(), m))
	}
	id := uint64(0)
	next := func() uint64 { id++; return id }
	// The subscription's goroutine takes the first event and waits to send
	// it: let it take one that is not under test, so that what follows is
	// all queued (otherwise the first view may be in its hands, not in the
	// queue where a newer one replaces it).
	pub("Z", schema.EventTrade, 0)
	eventually(t, func() bool { return ms.Stats().Depth == 0 }, "the goroutine holds the first event")
	pub("A", schema.EventBBO, next()) // 1
	var windows []uint64
	for range 12 {
		w := next()
		windows = append(windows, w)
		pub("A", schema.EventTrade, w)
	}
	pub("B", schema.EventBBO, next())
	lastA := next()
	pub("A", schema.EventBBO, lastA)
	for range 3 {
		w := next()
		windows = append(windows, w)
		pub("B", schema.EventTrade, w)
	}
	lastB := next()
	pub("B", schema.EventBBO, lastB)
	// The reader never read; it reads everything after Close.
	closed := make(chan error, 1)
	go func() { closed <- d.Close(longCtx(t)) }()
	require.NoError(t, awaitErr(t, closed, "Close"))
	var views []string
	var gotWindows []uint64
	for m := range ms.C() {
		if m.Symbol == "Z" {
			continue
		}
		if m.Type == schema.EventBBO {
			views = append(views, m.Symbol)
			if m.Symbol == "A" {
				assert.Equal(t, lastA, m.MergeID, "the latest view of A")
			} else {
				assert.Equal(t, lastB, m.MergeID, "the latest view of B")
			}
			continue
		}
		gotWindows = append(gotWindows, m.MergeID)
	}
	assert.Equal(t, []string{"A", "B"}, views, "each symbol's view once, in its place in line")
	assert.Equal(t, windows[len(windows)-4:], gotWindows, "the newest windows, oldest dropped")
	st := ms.Stats()
	assert.Equal(t, uint64(len(windows)-4), st.Dropped)
	assert.Equal(t, uint64(2), st.Coalesced)
	assert.Zero(t, mp.Stats().InUse)
}

// A value copy of a pooled event is not the pooled event: Publish refuses
// it with a NotPooledError and the original is still the caller's.
func TestAdversarialPublishValueCopy(t *testing.T) {
	t.Parallel()
	p := newEventPool(2)
	d := New(p, nil)
	ev := take(t, p, bin, "BTC-USDT", schema.EventTrade, 1)
	cp := new(schema.CanonicalEvent)
	ev.CloneInto(cp)
	*cp = *ev //nolint:govet // the misuse under test
	var npe *NotPooledError
	require.ErrorAs(t, d.Publish(context.Background(), cp), &npe)
	assert.Equal(t, int64(1), p.Stats().InUse)
	require.NoError(t, d.Publish(context.Background(), ev))
	assert.Zero(t, p.Stats().InUse)
	closeDispatcher(t, d)
}

// A handler that ends its goroutine with runtime.Goexit (t.FailNow in a
// test's handler does) ends its subscription: it is unsubscribed, nothing
// more is queued for it (its critical lane would otherwise grow without
// end), the others go on, and Close is not held up.
func TestAdversarialHandlerGoexit(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) { runtime.Goexit() }})
	require.NoError(t, err)
	other := &recorder{}
	_, err = d.Subscribe(Filter{}, &SubscribeOptions{Handler: other.handle})
	require.NoError(t, err)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 1)
	select {
	case <-s.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("the subscription's goroutine did not end")
	}
	// Done is closed after the goroutine's exit bookkeeping.
	for i := uint64(2); i <= 50; i++ {
		publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, i)
	}
	assert.Zero(t, s.Stats().Depth, "nothing queued for a goroutine that is gone")
	assert.ErrorIs(t, d.Unsubscribe(s), ErrUnknownSubscription, "no longer subscribed")
	closed := make(chan error, 1)
	go func() { closed <- d.Close(longCtx(t)) }()
	require.NoError(t, awaitErr(t, closed, "Close"))
	assert.Len(t, other.got(), 50)
	assert.Zero(t, p.Stats().InUse)
}

// The same for a merged subscription whose handler calls runtime.Goexit.
func TestAdversarialMergedHandlerGoexit(t *testing.T) {
	t.Parallel()
	mp := pool.New("merged", 2, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	d := New(newEventPool(1), &Options{Merged: mp})
	s, err := d.SubscribeMerged(MergedFilter{}, &MergedOptions{Handler: func(*schema.MergedEvent) { runtime.Goexit() }})
	require.NoError(t, err)
	for i := range 10 {
		m, err := mp.TryGet()
		require.NoError(t, err)
		m.Symbol, m.Type = "A", schema.EventTrade
		require.NoError(t, d.PublishMerged(context.Background(), m))
		if i == 0 {
			select {
			case <-s.Done():
			case <-time.After(60 * time.Second):
				t.Fatal("the merged subscription's goroutine did not end")
			}
		}
	}
	assert.Zero(t, s.Stats().Depth, "nothing queued for a goroutine that is gone")
	assert.ErrorIs(t, d.UnsubscribeMerged(s), ErrUnknownSubscription)
	require.NoError(t, d.Close(longCtx(t)))
	assert.Zero(t, mp.Stats().InUse)
}
