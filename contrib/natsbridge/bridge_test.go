package natsbridge

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/fixture"
	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestEventsCrossIntact sends one event of every type, every field of every
// section set, through publisher → NATS (core or JetStream) → consumer, and
// finds each on the far side's dispatcher exactly as it was sent.
func TestEventsCrossIntact(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, &ConsumerOptions{Durable: "intact"})
	require.NoError(t, err)

	want := map[schema.EventType]*schema.CanonicalEvent{}
	for typ := schema.EventTrade; int(typ) < schema.NumEventTypes; typ++ {
		ingest.publish(t, func(ev *schema.CanonicalEvent) {
			fixture.Full(ev, int(typ))
			ev.Type = typ
			want[typ] = ev.Clone()
		})
	}
	require.Empty(t, fixture.ZeroFields(want[schema.EventTrade]), "the fixture sets every field")
	for len(want) > 0 {
		ev := next(t, got, func(*schema.CanonicalEvent) bool { return true })
		w, ok := want[ev.Type]
		require.True(t, ok, "unexpected %s", ev.Type)
		assert.Equal(t, w, ev, "%s differs after the bridge", ev.Type)
		assert.True(t, w.Trade.Price.Identical(ev.Trade.Price) && w.Ticker.ChangePct.Identical(ev.Ticker.ChangePct), "digits kept")
		assert.Equal(t, w.Book.Bids, ev.Book.Bids)
		assert.Equal(t, w.Exec.ClientOrderID.String(), ev.Exec.ClientOrderID.String())
		delete(want, ev.Type)
	}
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
	assert.Equal(t, uint64(4), pub.Stats().ExecStored, "exec report, order ack, balance and position went through the stream")
	assert.Equal(t, uint64(4), cons.Stats().ExecDelivered)
	assert.Zero(t, cons.Stats().Malformed)
}

// TestAccountUpdatesDurable: the balances of one venue message differ only
// by asset and place, and each is stored and delivered (none taken for
// another's duplicate); one published twice is stored once; positions too.
// They reach a consumer that started after they were published.
func TestAccountUpdatesDurable(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	balance := func(asset string, i int) func(ev *schema.CanonicalEvent) {
		return func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Type, ev.ExchangeTS = schema.VenueBinance, schema.EventBalance, 1_700_000_000_000_000_000
			*ev.UseBalance() = schema.Balance{Asset: schema.MustID(asset), Kind: schema.BalanceSnapshot,
				Free: schema.MustParseDecimal("1.00000000"), Locked: schema.MustParseDecimal("0.00000000"),
				UpdateTime: 1_700_000_000_000_000_000, Index: uint32(i), Count: 3}
		}
	}
	ingest.publish(t, balance("USDT", 0))
	ingest.publish(t, balance("BTC", 1))
	ingest.publish(t, balance("ETH", 2))
	ingest.publish(t, balance("BTC", 1)) // the same again
	ingest.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventPosition
		*ev.UsePosition() = schema.Position{Side: schema.PositionShort, Amount: schema.MustParseDecimal("-10"), MarginCall: true, Count: 1}
	})
	eventually(t, func() bool { return pub.Stats().ExecStored == 5 }, "every update stored")
	assert.Equal(t, uint64(1), pub.Stats().ExecDuplicates)

	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventBalance, schema.EventPosition}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "account", Subjects: []string{"meltica.binance.>"}})
	require.NoError(t, err)
	for i, asset := range []string{"USDT", "BTC", "ETH"} {
		ev := next(t, got, ofType(schema.EventBalance))
		assert.Equal(t, asset, ev.Balance.Asset.String())
		assert.Equal(t, uint32(i), ev.Balance.Index)
		assert.Equal(t, "1.00000000", ev.Balance.Free.String())
	}
	ev := next(t, got, ofType(schema.EventPosition))
	assert.Equal(t, "-10", ev.Position.Amount.String())
	assert.True(t, ev.Position.MarginCall)
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
	assert.Equal(t, uint64(4), cons.Stats().ExecDelivered)
}

// execReport fills the i-th report of one order's life: distinct reports
// differ in cumulative quantity and trade id, as a venue's do.
func execReport(i int) func(ev *schema.CanonicalEvent) {
	return func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventExecReport
		ev.UseExec().ClientOrderID = schema.MustID("order-1")
		ev.UseExec().VenueOrderID = schema.MustID("778899")
		ev.UseExec().ExecType, ev.UseExec().Status = schema.ExecTrade, schema.StatusPartiallyFilled
		ev.UseExec().TradeID.SetUint(uint64(1000 + i))
		ev.UseExec().CumFillQty = schema.NewDecimal(int64(i+1)*100000, 8)
		ev.UseExec().LastFillQty = schema.MustParseDecimal("0.00100000")
		ev.UseExec().TransactTime = int64(1_700_000_000_000_000_000 + i)
	}
}

// TestExecReportsSurviveConsumerRestart: a durable consumer stops; reports
// published meanwhile (and reports published twice, as a retry or a
// connection's rotation overlap would) reach its next incarnation, in order,
// none lost and none twice.
func TestExecReportsSurviveConsumerRestart(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	const n = 20
	opts := &ConsumerOptions{Durable: "strategy-a", Subjects: []string{"meltica.binance.>"}}

	// First incarnation: reports 0..n-1.
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, opts)
	require.NoError(t, err)
	for i := range n {
		ingest.publish(t, execReport(i))
	}
	seen := map[string]bool{}
	receive := func(i int) {
		ev := next(t, got, ofType(schema.EventExecReport))
		id := ev.Exec.TradeID.String()
		assert.Equal(t, strconv.Itoa(1000+i), id, "in order")
		assert.False(t, seen[id], "report %s delivered twice", id)
		seen[id] = true
	}
	for i := range n {
		receive(i)
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)

	// While nobody consumes: n new reports, and the first five again.
	for i := n; i < 2*n; i++ {
		ingest.publish(t, execReport(i))
	}
	for i := range 5 {
		ingest.publish(t, execReport(i))
	}
	eventually(t, func() bool { return pub.Stats().ExecStored == 2*n+5 }, "every report stored")
	st := pub.Stats()
	assert.Equal(t, uint64(5), st.ExecDuplicates, "the stream stored the repeated reports once")

	// Second incarnation, same durable name: exactly the reports it missed.
	far = newNode(t)
	got = far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err = NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, opts)
	require.NoError(t, err)
	for i := n; i < 2*n; i++ {
		receive(i)
	}
	// Nothing more is pending for the durable consumer: no duplicate follows.
	eventually(t, func() bool {
		pending, ackPending, err := consumerPending(srv.ClientURL(), "strategy-a")
		return err == nil && pending == 0 && ackPending == 0
	}, "the durable consumer has acknowledged everything")
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
	select {
	case ev := <-got:
		t.Fatalf("unexpected %s after the last report", ev.Type)
	default:
	}
	assert.Len(t, seen, 2*n)
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
}

// TestGapMarkersForLostMessages: messages of an ordered stream lost on the
// way (here: sequence numbers that never arrive, as when the publisher's
// reconnect buffer overflowed) become one gap marker ahead of the next event.
func TestGapMarkersForLostMessages(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)
	raw := connect(t, srv.ClientURL(), nil)
	send := func(seq uint64) {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "ETH-USDT", Type: schema.EventTrade, SeqProvider: seq}
		require.NoError(t, raw.Publish(Subject(DefaultPrefix, ev.Venue, ev.Symbol, ev.Type), wire.Append(nil, ev, seq)))
	}
	for _, seq := range []uint64{1, 2, 6, 7} {
		send(seq)
	}
	require.NoError(t, raw.Flush())
	// The marker is critical: like the local dispatcher's own, it may
	// overtake trades still queued, never the first one after the hole.
	var trades []uint64
	gapAt := -1
	for range 5 {
		ev := next(t, got, func(*schema.CanonicalEvent) bool { return true })
		if ev.Type == schema.EventGap {
			require.Equal(t, -1, gapAt, "one marker")
			gapAt = len(trades)
			assert.Equal(t, uint64(3), ev.Control.GapCount)
			assert.Equal(t, schema.EventTrade, ev.Control.GapType)
			assert.Equal(t, "ETH-USDT", ev.Symbol)
			continue
		}
		trades = append(trades, ev.SeqProvider)
	}
	assert.Equal(t, []uint64{1, 2, 6, 7}, trades, "in order")
	assert.LessOrEqual(t, gapAt, 2, "the marker comes before trade 6")
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
	assert.Equal(t, uint64(3), cons.Stats().Lost)
}

// TestSlowConsumerBounded: a consumer that falls behind NATS keeps a bounded
// backlog (its pending limits), NATS drops the rest, and the losses arrive as
// gap markers, not as unbounded memory.
func TestSlowConsumerBounded(t *testing.T) {
	// most: the trades that may come through, the backlog — the queue's
	// bound, the message in onMsg's hands — and the trade published at
	// the end. A trade is 70–80 bytes with its subject (54 came through
	// the bytes bound at a run): 64 bytes at least.
	for name, c := range map[string]struct {
		opts *ConsumerOptions
		most uint64
	}{
		"messages": {&ConsumerOptions{PendingMsgs: 50}, 50 + 1 + 1},
		"bytes":    {&ConsumerOptions{PendingBytes: 50 * 80}, 50*80/64 + 1 + 1},
	} {
		t.Run(name, func(t *testing.T) { testSlowConsumerBounded(t, c.opts, c.most) })
	}
}

func testSlowConsumerBounded(t *testing.T, opts *ConsumerOptions, most uint64) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d,
		&PublisherOptions{Lanes: dispatch.SubscribeOptions{OrderedBound: 1 << 16}})
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, opts)
	require.NoError(t, err)

	const n = 2000
	cons.mu.Lock() // the consumer is stuck: NATS queues up to 50, then drops
	for i := range n {
		ingest.publish(t, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, uint64(i+1)
		})
	}
	eventually(t, func() bool { return pub.Stats().Lane.Delivered == n }, "publisher handled every event")
	require.NoError(t, pub.Flush(closeCtx(t)))
	// Every trade has reached the consumer's process — moved into its
	// queue (which drops past its bounds) or dropped by nats.go — before
	// it may go on: unlocked at the first drop, while the server was still
	// sending (a loaded machine), it took the rest as they came, and the
	// trades delivered said nothing of the backlog (622 > n/4 once).
	eventually(t, func() bool { return cons.moved.Load()+natsDropped(cons) == n }, "every trade reached the consumer")
	require.Positive(t, cons.Stats().SlowDropped, "NATS dropped for the slow consumer")
	cons.mu.Unlock()
	eventually(t, func() bool { st := cons.Stats(); return st.Received+st.SlowDropped == n }, "the consumer caught up")
	// One more trade shows the loss of whatever was dropped at the end.
	ingest.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, n+1
	})
	var trades, lost uint64
	for trades+lost < n+1 {
		var ev *schema.CanonicalEvent
		select {
		case ev = <-got:
		case <-time.After(generous):
			t.Fatalf("stuck at %d trades, %d lost; consumer %+v; publisher %+v", trades, lost, cons.Stats(), pub.Stats())
		}
		switch ev.Type {
		case schema.EventTrade:
			trades++
		case schema.EventGap:
			lost += ev.Control.GapCount
		}
	}
	st := cons.Stats()
	t.Logf("delivered %d trades, %d lost in gap markers; NATS dropped %d", trades, lost, st.SlowDropped)
	assert.Equal(t, uint64(n+1), trades+lost, "every trade is either delivered or counted by a gap marker")
	assert.Positive(t, lost)
	assert.Equal(t, st.SlowDropped, st.Lost)
	assert.LessOrEqual(t, trades, most, "the backlog was bounded")
	require.NoError(t, cons.Close(closeCtx(t)))
	require.NoError(t, pub.Close(closeCtx(t)))
	far.close(t)
	ingest.close(t)
}

// natsDropped sums what nats.go dropped for the consumer's subscriptions
// (its channel full), not counting its queue's drops.
func natsDropped(c *Consumer) uint64 {
	var n uint64
	for _, s := range c.subs {
		if d, err := s.Dropped(); err == nil {
			n += uint64(d)
		}
	}
	return n
}

// consumerPending asks the server how many reports the durable consumer has
// not yet delivered, and not yet had acknowledged.
func consumerPending(url, durable string) (pending uint64, ackPending int, err error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return 0, 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	c, err := js.Consumer(ctx, DefaultStream, durable)
	if err != nil {
		return 0, 0, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	return info.NumPending, info.NumAckPending, nil
}
