package dispatch

import (
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

const (
	bin = schema.VenueBinance
	okx = schema.VenueOKX
)

func TestNewPanicsWithoutPool(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, "dispatch: New with a nil events pool", func() { New(nil, nil) })
}

func TestPublishReturnsOriginal(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 1) // no subscriber
	assert.Zero(t, p.Stats().InUse)

	r := &recorder{}
	_, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: r.handle})
	require.NoError(t, err)
	ev := take(t, p, bin, "BTC-USDT", schema.EventBookUpdate, 2)
	ev.Raw = append(ev.Raw, `{"u":2}`...)
	ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.MustParseDecimal("100.5"), Qty: schema.MustParseDecimal("2")})
	require.NoError(t, d.Publish(context.Background(), ev))
	assert.Zero(t, p.Stats().InUse, "the original goes back before Publish returns")
	closeDispatcher(t, d)

	got := r.got()
	require.Len(t, got, 1)
	assert.False(t, got[0].Pooled())
	assert.Equal(t, `{"u":2}`, string(got[0].Raw))
	assert.Equal(t, "100.5", got[0].Book.Bids[0].Price.String())

	require.ErrorIs(t, d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", schema.EventTrade, 3)), ErrClosed)
	assert.Zero(t, p.Stats().InUse, "returned on a closed dispatcher too")
	_, err = d.Subscribe(Filter{}, nil)
	require.ErrorIs(t, err, ErrClosed)
}

func TestPublishRefuses(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	defer closeDispatcher(t, d)

	require.ErrorIs(t, d.Publish(context.Background(), nil), ErrNilEvent)

	ev := take(t, p, bin, "ETH-USDT", schema.EventExecReport, 1)
	clone := ev.Clone()
	err := d.Publish(context.Background(), clone)
	require.ErrorIs(t, err, ErrNotPooled)
	var npe *NotPooledError
	require.ErrorAs(t, err, &npe)
	assert.Equal(t, NotPooledError{Venue: bin, Symbol: "ETH-USDT", Type: schema.EventExecReport}, *npe)
	assert.Contains(t, err.Error(), "exec_report event (binance ETH-USDT) that is not checked out of the dispatcher's pool")

	puts := p.Stats().Puts
	p.Put(ev)
	require.ErrorIs(t, d.Publish(context.Background(), ev), ErrNotPooled, "an event already returned")
	assert.Equal(t, puts+1, p.Stats().Puts, "a refused event is not Put")

	other := newEventPool(1)
	foreign := take(t, other, bin, "ETH-USDT", schema.EventTrade, 2)
	require.ErrorIs(t, d.Publish(context.Background(), foreign), ErrNotPooled, "another pool's event is refused, not a panic")
	assert.Equal(t, int64(1), other.Stats().InUse, "and left to its owner")
	other.Put(foreign)
}

func TestRouting(t *testing.T) {
	t.Parallel()
	p := newEventPool(8)
	d := New(p, nil)
	filters := map[string]Filter{
		"all":        {},
		"binance":    {Venues: []schema.Venue{bin}},
		"btc":        {Symbols: []string{"BTC-USDT"}},
		"trades":     {Types: []schema.EventType{schema.EventTrade}},
		"okx-eth-tr": {Venues: []schema.Venue{okx}, Symbols: []string{"ETH-USDT"}, Types: []schema.EventType{schema.EventTrade, schema.EventConnState}},
		"unknown":    {Types: []schema.EventType{schema.EventType(200)}},
	}
	recs := map[string]*recorder{}
	for name, f := range filters {
		recs[name] = &recorder{}
		_, err := d.Subscribe(f, &SubscribeOptions{Handler: recs[name].handle})
		require.NoError(t, err)
	}
	type ev struct {
		v   schema.Venue
		sym string
		typ schema.EventType
	}
	evs := []ev{
		{bin, "BTC-USDT", schema.EventTrade},
		{okx, "ETH-USDT", schema.EventTrade},
		{okx, "ETH-USDT", schema.EventBBO},
		{okx, "", schema.EventConnState}, // no symbol: matches any symbol list
		{bin, "BTC-USDT", schema.EventTrade},
		{okx, "BTC-USDT", schema.EventType(200)},
	}
	for i, e := range evs {
		publish(t, d, p, e.v, e.sym, e.typ, uint64(i+1))
	}
	closeDispatcher(t, d)

	want := map[string][]uint64{
		"all":        {1, 2, 3, 4, 5, 6},
		"binance":    {1, 5},
		"btc":        {1, 4, 5, 6},
		"trades":     {1, 2, 5},
		"okx-eth-tr": {2, 4},
		"unknown":    nil,
	}
	for name, seqs := range want {
		var got []uint64
		for _, e := range recs[name].got() {
			got = append(got, e.SeqProvider)
		}
		sort.Slice(got, func(i, j int) bool { return got[i] < got[j] }) // lanes may interleave
		assert.Equal(t, seqs, got, name)
	}
	assert.Zero(t, p.Stats().InUse)
}

func TestRouteLearnsAndPromotes(t *testing.T) {
	t.Parallel()
	s := &Subscription{m: compile(Filter{Venues: []schema.Venue{bin}})}
	ix := newIndex([]*Subscription{s})
	for i := range 100 {
		k := routeKey{venue: bin, symbol: string(rune('A' + i%26)), typ: schema.EventTrade}
		require.Equal(t, []*Subscription{s}, ix.route(k))
		require.Empty(t, ix.route(routeKey{venue: okx, symbol: k.symbol, typ: k.typ}))
	}
	assert.Equal(t, 52, ix.size(), "every learned route is kept")
}

func TestChannelDelivery(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{Symbols: []string{"BTC-USDT"}}, nil)
	require.NoError(t, err)
	require.NotNil(t, s.C())
	got := make(chan []uint64)
	go func() {
		var seqs []uint64
		for ev := range s.C() {
			seqs = append(seqs, ev.SeqProvider)
		}
		got <- seqs
	}()
	for i := range uint64(100) {
		publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, i+1)
	}
	closeDispatcher(t, d)
	seqs := <-got
	require.Len(t, seqs, 100)
	for i, q := range seqs {
		require.Equal(t, uint64(i+1), q)
	}
	assert.Equal(t, uint64(100), s.Stats().Delivered)
}

func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	defer closeDispatcher(t, d)

	r, s := stalled(t, d, p, SubscribeOptions{}, schema.EventTrade)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 2)
	publish(t, d, p, bin, "BTC-USDT", schema.EventBBO, 3)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 4)
	require.NoError(t, d.Unsubscribe(s))
	require.ErrorIs(t, d.Unsubscribe(s), ErrUnknownSubscription)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 5) // nobody wants it now
	r.open()
	waitDone(t, s)
	st := s.Stats()
	assert.Equal(t, uint64(3), st.Discarded)
	assert.Equal(t, uint64(1), st.Delivered)
	assert.Zero(t, st.Depth)
	assert.Len(t, r.got(), 1)
	assert.Zero(t, p.Stats().InUse)
}

func TestUnsubscribeFromHandler(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	defer closeDispatcher(t, d)
	var s *Subscription
	ready := make(chan struct{})
	var errs = make(chan error, 1)
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {
		<-ready
		errs <- d.Unsubscribe(s)
	}})
	require.NoError(t, err)
	close(ready)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 1)
	require.NoError(t, <-errs)
	waitDone(t, s)
}

func TestCloseDrainsCriticalFirst(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	r, _ := stalled(t, d, p, SubscribeOptions{}, schema.EventTrade)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 2)
	publish(t, d, p, bin, "BTC-USDT", schema.EventBBO, 3)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 4)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 5)
	publish(t, d, p, bin, "BTC-USDT", schema.EventBBO, 6) // replaces 3 in its place
	publish(t, d, p, bin, "", schema.EventConnState, 7)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 8)

	closed := make(chan error)
	go func() { closed <- d.Close(context.Background()) }()
	eventually(t, d.closed.Load, "Close has begun")
	require.ErrorIs(t, d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", schema.EventExecReport, 9)), ErrClosed)
	r.open()
	require.NoError(t, <-closed)

	want := []seen{
		{Type: schema.EventTrade, Symbol: "BTC-USDT", Seq: 1},
		{Type: schema.EventExecReport, Symbol: "BTC-USDT", Seq: 5},
		{Type: schema.EventConnState, Seq: 7},
		{Type: schema.EventExecReport, Symbol: "BTC-USDT", Seq: 8},
		{Type: schema.EventTrade, Symbol: "BTC-USDT", Seq: 2},
		{Type: schema.EventBBO, Symbol: "BTC-USDT", Seq: 6},
		{Type: schema.EventTrade, Symbol: "BTC-USDT", Seq: 4},
	}
	assert.Equal(t, want, describe(r.got()))
	assert.Zero(t, p.Stats().InUse)
}

func TestCloseTimeoutReleases(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{}, schema.EventTrade)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 2)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 3)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := d.Close(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, uint64(2), ce.Discarded, "the two queued behind the gated handler")
	assert.Equal(t, 1, ce.Running, "the gated handler is still running")
	assert.Contains(t, err.Error(), "close gave up draining")
	r.open()
	waitDone(t, s)
	assert.Equal(t, uint64(2), s.Stats().Discarded)
	assert.Len(t, r.got(), 1)
	require.NoError(t, d.Close(context.Background()), "a second Close finds nothing left")
}

// TestCloseHandsOffChannel: a channel subscriber that reads only after
// Close returns. Close must not wait for it (nor report it as stuck in a
// handler), and the reader then gets everything that was queued, critical
// first, and the channel closes after the last one.
func TestCloseHandsOffChannel(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)
	r := &recorder{}
	h, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: r.handle})
	require.NoError(t, err)
	for seq := uint64(1); seq <= 50; seq++ {
		publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, seq)
	}
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 51)

	// Nothing reads C until Close has returned: a Close that waited for the
	// reader would only return at this deadline, with an error.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, d.Close(ctx))
	waitDone(t, h)
	assert.Len(t, r.got(), 51, "the handler subscriber was drained before Close returned")

	var got []uint64
	for ev := range s.C() {
		got = append(got, ev.SeqProvider)
	}
	require.Len(t, got, 51)
	// The execution report overtakes queued market data: at most trade 1,
	// which the goroutine may already have been offering, comes before it.
	assert.LessOrEqual(t, slices.Index(got, 51), 1, "%v", got)
	waitDone(t, s)
	st := s.Stats()
	assert.Equal(t, uint64(51), st.Delivered)
	assert.Zero(t, st.Discarded)
	assert.ErrorIs(t, d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", schema.EventTrade, 52)), ErrClosed)
}

// A channel handed off by Close but never read is ended by Unsubscribe,
// which releases what is left.
func TestUnsubscribeAfterCloseReleasesChannel(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)
	for seq := uint64(1); seq <= 5; seq++ {
		publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, seq)
	}
	require.NoError(t, d.Close(context.Background()))
	ev := <-s.C()
	require.Equal(t, uint64(1), ev.SeqProvider)
	require.NoError(t, d.Unsubscribe(s))
	waitDone(t, s)
	for range s.C() {
		t.Fatal("nothing is delivered after Unsubscribe")
	}
	st := s.Stats()
	assert.Equal(t, uint64(1), st.Delivered)
	assert.Equal(t, uint64(4), st.Discarded, "three queued and the one being offered")
}

func TestStats(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{}, schema.EventTrade)
	ev := take(t, p, bin, "BTC-USDT", schema.EventTrade, 2)
	ev.IngestTS = time.Now().Add(-time.Hour).UnixNano()
	require.NoError(t, d.Publish(context.Background(), ev))
	publish(t, d, p, bin, "BTC-USDT", schema.EventBBO, 3)
	publish(t, d, p, bin, "BTC-USDT", schema.EventBBO, 4)
	publish(t, d, p, bin, "BTC-USDT", schema.EventOrderAck, 5)
	st := s.Stats()
	assert.Equal(t, Stats{Coalesced: 1, Critical: 1, Coalescing: 1, Ordered: 1, Depth: 3, MaxDepth: 3, InHand: 1, InHandType: schema.EventTrade}, st, "the trade inside the handler is in hand")
	r.open()
	closeDispatcher(t, d)
	st = s.Stats()
	assert.Equal(t, uint64(4), st.Delivered)
	assert.Zero(t, st.Depth)
	assert.GreaterOrEqual(t, st.WorstLag, time.Hour)
}

func TestOverflowCallbackMayUnsubscribe(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	var d *Dispatcher
	alarms := make(chan Stats, 4)
	d = New(p, &Options{OnCriticalOverflow: func(s *Subscription, st Stats) {
		alarms <- st
		if !errors.Is(d.Unsubscribe(s), nil) {
			t.Error("unsubscribe from the alarm failed")
		}
	}})
	r, s := stalled(t, d, p, SubscribeOptions{CriticalBound: 1}, schema.EventExecReport)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 2)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 3)
	st := <-alarms
	assert.Equal(t, 2, st.Critical)
	assert.Equal(t, uint64(1), st.Overflowed)
	r.open()
	waitDone(t, s)
	closeDispatcher(t, d)
}
