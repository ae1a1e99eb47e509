package natsbridge

import (
	"bytes"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// longAckWait is far beyond every wait of these tests: a report that waited
// for it would fail them.
const longAckWait = 5 * time.Minute

// A consumer closed while a report is in its hands hands it back: the next
// incarnation with the same durable name gets it at once (within the
// seconds of next's deadline, not AckWait), then the rest, in order, once.
func TestConsumerRestartResumesAtOnce(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	opts := &ConsumerOptions{Durable: "resume", Subjects: []string{"meltica.binance.>"}, AckWait: longAckWait}

	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, opts)
	require.NoError(t, err)
	ingest.publish(t, execReport(0))
	require.Equal(t, "1000", next(t, got, ofType(schema.EventExecReport)).Exec.TradeID.String())

	// Report 1 reaches the consumer, which is held before handing it on.
	cons.execMu.Lock()
	ingest.publish(t, execReport(1))
	// In its hands: past nats.go, in onExec, waiting for execMu. The
	// server's count of acks pending says only that it was sent; a Close
	// before it reached onExec drops it inside nats.go (the next
	// incarnation then resets for it: TestS48natsResetForUnreceivedBelowLastHandled),
	// and nothing is handed back.
	eventually(t, func() bool {
		_, ackPending, err := consumerPending(srv.ClientURL(), "resume")
		return err == nil && ackPending == 1 && cons.execDoor.waiting(0, math.MaxUint64) == 1
	}, "report 1 delivered to the consumer")
	closed := make(chan error, 1)
	go func() { closed <- cons.Close(closeCtx(t)) }()
	eventually(t, cons.closed.Load, "closing")
	cons.execMu.Unlock()
	require.NoError(t, <-closed)
	assert.Positive(t, cons.Stats().ExecReturned, "handed back")
	assert.Equal(t, uint64(1), cons.Stats().ExecDelivered)
	far.close(t)

	far = newNode(t)
	got = far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err = NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, opts)
	require.NoError(t, err)
	require.Equal(t, "1001", next(t, got, ofType(schema.EventExecReport)).Exec.TradeID.String(), "at once, not after AckWait")
	for i := 2; i < 6; i++ {
		ingest.publish(t, execReport(i))
		require.Equal(t, "100"+string(rune('0'+i)), next(t, got, ofType(schema.EventExecReport)).Exec.TradeID.String())
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
}

// Reports flow while consumers close cleanly and restart again and again,
// with one or several reports outstanding: every report arrives once, and
// with one outstanding (the default) in order; no restart waits for
// AckWait.
func TestConsumerRestartsMidStream(t *testing.T) {
	for _, maxAck := range []int{1, 8} {
		t.Run("MaxAckPending "+string(rune('0'+maxAck)), func(t *testing.T) {
			srv := startServer(t)
			ingest := newNode(t)
			pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
			require.NoError(t, err)
			const n = 60
			for i := range n {
				ingest.publish(t, execReport(i))
			}
			opts := &ConsumerOptions{Durable: "midstream", AckWait: longAckWait, MaxAckPending: maxAck}
			seen := map[string]int{}
			var order []string
			for incarnation := 0; len(seen) < n; incarnation++ {
				require.Less(t, incarnation, 40, "no progress")
				far := newNode(t)
				got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
				cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, opts)
				require.NoError(t, err)
				// Take a few, then close with the next ones on the way.
				for range min(7, n-len(seen)) {
					id := next(t, got, ofType(schema.EventExecReport)).Exec.TradeID.String()
					seen[id]++
					order = append(order, id)
				}
				require.NoError(t, cons.Close(closeCtx(t)))
				far.close(t)
				for len(got) > 0 { // handed on before Close returned
					id := (<-got).Exec.TradeID.String()
					seen[id]++
					order = append(order, id)
				}
			}
			require.Len(t, seen, n)
			for id, k := range seen {
				require.Equal(t, 1, k, "report %s delivered %d times", id, k)
			}
			if maxAck == 1 {
				for i, id := range order {
					require.Equal(t, 1000+i, atoi(id), "in order")
				}
			}
			require.NoError(t, pub.Close(closeCtx(t)))
			ingest.close(t)
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = 10*n + int(c-'0')
	}
	return n
}

// Filters that overlap — both documented forms, a tail wildcard and token
// wildcards, and the same filter twice — hand every event on once, in the
// order it was published, execution reports included.
func TestOverlappingSubjectsOnceInOrder(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d,
		&PublisherOptions{Lanes: dispatch.SubscribeOptions{OrderedBound: 1 << 12}})
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, &ConsumerOptions{
		Durable: "overlap",
		Subjects: []string{"meltica.binance.>", "meltica.*.BTC-USDT.*", "meltica.*.*.trade",
			"meltica.*.*.exec_report", "meltica.binance.>"},
	})
	require.NoError(t, err)

	type key struct {
		v   schema.Venue
		sym string
		typ schema.EventType
		seq uint64
	}
	var want []key
	streams := []struct {
		v   schema.Venue
		sym string
		typ schema.EventType
	}{
		{schema.VenueBinance, "BTC-USDT", schema.EventTrade},      // all but one filter
		{schema.VenueBinance, "ETH-USDT", schema.EventTrade},      // binance.>, *.*.trade
		{schema.VenueBinance, "BTC-USDT", schema.EventBookUpdate}, // binance.>, *.BTC-USDT.*
		{schema.VenueOKX, "BTC-USDT", schema.EventTrade},          // *.BTC-USDT.*, *.*.trade
		{schema.VenueOKX, "ETH-USDT", schema.EventBookUpdate},     // none
	}
	for i := range 300 {
		s := streams[i%len(streams)]
		seq := uint64(i + 1)
		ingest.publish(t, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = s.v, s.sym, s.typ, seq
		})
		if s.v != schema.VenueOKX || s.sym != "ETH-USDT" {
			want = append(want, key{s.v, s.sym, s.typ, seq})
		}
	}
	ingest.publish(t, execReport(0))
	var have []key
	reports := 0
	for len(have) < len(want) {
		var ev *schema.CanonicalEvent
		select {
		case ev = <-got:
		case <-time.After(generous):
			t.Fatalf("stuck after %d of %d: last %+v; consumer %+v", len(have), len(want), have[max(0, len(have)-3):], cons.Stats())
		}
		if ev.Type == schema.EventExecReport {
			reports++
			continue
		}
		have = append(have, key{ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider})
	}
	assert.Equal(t, want, have, "once each, in the order published")
	eventually(t, func() bool { return cons.Stats().ExecDelivered == 1 }, "the report")
	require.NoError(t, pub.Flush(closeCtx(t)))
	eventually(t, func() bool { return cons.Stats().Delivered == uint64(len(want)) }, "all delivered")
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t) // delivers what is queued
	for len(got) > 0 {
		ev := <-got
		require.Equal(t, schema.EventExecReport, ev.Type, "unexpected %s %s %d", ev.Type, ev.Symbol, ev.SeqProvider)
		reports++
	}
	assert.Equal(t, 1, reports)
	st := cons.Stats()
	assert.Positive(t, st.Duplicates)
	assert.Zero(t, st.Gaps)
	assert.Equal(t, uint64(1), st.ExecDelivered, "the report once, though two filters match it")
	require.NoError(t, pub.Close(closeCtx(t)))
}

// smallNode is a host whose event pool the test can empty.
type smallNode struct {
	events *pool.Pool[*schema.CanonicalEvent]
	d      *dispatch.Dispatcher
	held   []*schema.CanonicalEvent
}

func newSmallNode(tb testing.TB) *smallNode {
	n := &smallNode{events: pool.New("events-small", 16, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)}
	n.d = dispatch.New(n.events, nil)
	return n
}

// hold takes every free event but keep.
func (n *smallNode) hold(keep int) {
	for n.events.Capacity()-int(n.events.Stats().InUse) > keep {
		ev, err := n.events.TryGet()
		if err != nil {
			return
		}
		n.held = append(n.held, ev)
	}
}

func (n *smallNode) releaseOne() {
	n.events.Put(n.held[len(n.held)-1])
	n.held = n.held[:len(n.held)-1]
}

func (n *smallNode) release() {
	for _, ev := range n.held {
		n.events.Put(ev)
	}
	n.held = nil
}

// Every loss is announced, even when the host's event pool is exhausted:
// market data dropped for want of an event is announced by a gap marker
// ahead of the stream's next event — from the consumer's reserved event, or
// in that event's place when the pool has only that one left; a critical
// message (an ingest gap marker) that finds no event is delivered first
// once one is free; the latest update of a coalescable stream is delivered
// once an event is free, even if nothing more comes.
func TestLossesAnnouncedUnderPoolPressure(t *testing.T) {
	srv := startServer(t)
	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 64)
	_, err := far.d.Subscribe(dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events, nil)
	require.NoError(t, err)
	raw := connect(t, srv.ClientURL(), nil)
	send := func(ev *schema.CanonicalEvent, seq uint64) {
		ev.Venue, ev.Symbol = schema.VenueBinance, "ETH-USDT"
		require.NoError(t, raw.Publish(Subject(DefaultPrefix, ev.Venue, ev.Symbol, ev.Type), wire.Append(nil, ev, seq)))
		require.NoError(t, raw.Flush())
	}
	trade := func(seq uint64) { send(&schema.CanonicalEvent{Type: schema.EventTrade, SeqProvider: seq}, seq) }
	ingestGap := func(n uint64) {
		send(&schema.CanonicalEvent{Type: schema.EventGap, Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventTrade, GapCount: n}}, 0)
	}
	marker := func(n uint64) {
		t.Helper()
		g := next(t, got, anyEvent)
		require.Equal(t, schema.EventGap, g.Type)
		assert.Equal(t, n, g.Control.GapCount)
		assert.Equal(t, schema.EventTrade, g.Control.GapType)
		assert.Equal(t, "ETH-USDT", g.Symbol)
	}
	dropped := func(n uint64) {
		t.Helper()
		eventually(t, func() bool { return cons.Stats().PoolDropped == n }, "%d dropped for want of an event", n)
	}
	settled := func() { // only the test's objects (and the reserve, if any) are out
		t.Helper()
		eventually(t, func() bool {
			cons.mu.Lock()
			defer cons.mu.Unlock()
			r := 0
			if cons.reserve != nil {
				r = 1
			}
			return far.events.Stats().InUse == int64(len(far.held)+r)
		}, "settled")
	}

	trade(1)
	assert.Equal(t, uint64(1), next(t, got, anyEvent).SeqProvider)
	settled()
	far.hold(0)
	trade(2)
	trade(3)
	dropped(2)
	ingestGap(5) // the reserved event carries it
	marker(5)
	settled()
	far.hold(0)  // the reserve's event came back; it is left to market data
	ingestGap(4) // no event: held
	dropped(3)
	far.releaseOne()
	trade(4) // the held marker first; then one event: the trade's becomes the marker of 2, 3 and itself
	marker(4)
	marker(3)
	far.release()
	trade(5)
	assert.Equal(t, uint64(5), next(t, got, anyEvent).SeqProvider, "no marker: nothing lost")
	settled()
	far.hold(0)
	trade(6)
	dropped(4)
	far.releaseOne()
	trade(7) // one event for the trade, the reserve for the marker
	marker(1)
	assert.Equal(t, uint64(7), next(t, got, anyEvent).SeqProvider)
	settled()

	// Coalescable: the latest update waits for an event, and comes without
	// another message.
	far.hold(0)
	for _, bid := range []string{"1", "2", "3"} {
		send(&schema.CanonicalEvent{Type: schema.EventBBO, BBO: schema.BBO{BidPrice: schema.MustParseDecimal(bid)}}, 1)
	}
	dropped(7)
	far.releaseOne()
	ev := next(t, got, anyEvent)
	require.Equal(t, schema.EventBBO, ev.Type)
	assert.Equal(t, "3", ev.BBO.BidPrice.String())
	far.release()
	st := cons.Stats()
	assert.Equal(t, uint64(4), st.Lost)
	assert.Equal(t, uint64(2), st.Gaps)
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx := closeCtx(t)
	require.NoError(t, far.d.Close(ctx))
	require.NoError(t, far.events.Shutdown(ctx))
	select {
	case ev := <-got:
		t.Fatalf("unexpected %s", ev.Type)
	default:
	}
}

// Under random pool pressure the subscriber never sees a hole without a
// marker: every trade published is delivered or counted by a marker that
// arrives before the next trade delivered.
func TestNoHoleWithoutMarkerUnderPoolPressure(t *testing.T) {
	srv := startServer(t)
	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 4096)
	_, err := far.d.Subscribe(dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}}, &dispatch.SubscribeOptions{OrderedBound: 4096, Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events, nil)
	require.NoError(t, err)
	raw := connect(t, srv.ClientURL(), nil)
	const n = 400
	var sent, p uint64 // messages sent; provider sequence
	publish := func(ev *schema.CanonicalEvent, seq uint64) {
		ev.Venue, ev.Symbol = schema.VenueBinance, "BTC-USDT"
		require.NoError(t, raw.Publish(Subject(DefaultPrefix, ev.Venue, ev.Symbol, ev.Type), wire.Append(nil, ev, seq)))
		require.NoError(t, raw.Flush())
		sent++
		eventually(t, func() bool { return cons.Stats().Received == sent }, "received %d", sent)
	}
	for seq := uint64(1); p < n; seq++ {
		switch seq % 23 {
		case 3:
			far.hold(0)
		case 9:
			far.release()
			far.hold(1)
		case 15:
			far.release()
		}
		if seq%17 == 5 && p+3 <= n {
			// The ingest node lost two (its own lane overflowed): its marker
			// comes on the gap subject, the trades go on without them.
			publish(&schema.CanonicalEvent{Type: schema.EventGap, Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventTrade, GapCount: 2}}, 0)
			p += 2
		}
		p++
		publish(&schema.CanonicalEvent{Type: schema.EventTrade, SeqProvider: p}, seq)
	}
	far.release()
	// Markers are critical: one may overtake trades queued before its hole
	// (as the dispatcher's own do), never a trade after it.
	var last, budget, trades, announced uint64
	for trades+announced < n {
		ev := next(t, got, anyEvent)
		switch ev.Type {
		case schema.EventGap:
			budget += ev.Control.GapCount
			announced += ev.Control.GapCount
		case schema.EventTrade:
			require.Greater(t, ev.SeqProvider, last, "in order")
			hole := ev.SeqProvider - last - 1
			require.LessOrEqual(t, hole, budget, "a hole without its marker before trade %d", ev.SeqProvider)
			budget -= hole
			last = ev.SeqProvider
			trades++
		}
	}
	require.Equal(t, uint64(n), trades+announced)
	st := cons.Stats()
	t.Logf("consumer %+v", st)
	assert.Positive(t, st.PoolDropped)
	assert.Positive(t, st.Gaps)
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx := closeCtx(t)
	require.NoError(t, far.d.Close(ctx))
	require.NoError(t, far.events.Shutdown(ctx))
}

func anyEvent(*schema.CanonicalEvent) bool { return true }

// The Logger sees the connection's states at Info and losses at Warn with
// structured keys, the first and then at each doubling, not per message.
func TestConsumerAndPublisherLog(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(syncWriter{&mu, &buf}, nil))
	lines := func(sub string) int {
		mu.Lock()
		defer mu.Unlock()
		return strings.Count(buf.String(), sub)
	}
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, &PublisherOptions{Logger: log})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, &ConsumerOptions{Logger: log, Durable: "logged"})
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	raw := connect(t, srv.ClientURL(), nil)
	// 1, 3, 4, ..., 20: one loss; then seq jumps of one, 12 times.
	seq := uint64(0)
	for i := range 40 {
		seq++
		if i%3 == 1 {
			seq++
		}
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade, SeqProvider: seq}
		require.NoError(t, raw.Publish(Subject(DefaultPrefix, ev.Venue, ev.Symbol, ev.Type), wire.Append(nil, ev, seq)))
	}
	require.NoError(t, raw.Flush())
	eventually(t, func() bool { return cons.Stats().Received == 40 }, "received")
	for len(got) > 0 {
		<-got
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
	lost := cons.Stats().Lost
	require.Equal(t, uint64(13), lost)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	t.Log(out)
	assert.Equal(t, 4, lines("msg=\"natsbridge: events lost"), "at 1, 2, 4, 8 of 13 losses, not 13 lines")
	assert.Contains(t, out, `level=WARN msg="natsbridge: events lost between ingest and consumer, announced by gap markers" role=consumer durable=logged venue=binance symbol=BTC-USDT count=1 total=1`)
	assert.Equal(t, 1, lines(`level=INFO msg="natsbridge: NATS connection state" role=publisher state=connected`))
	assert.Equal(t, 1, lines(`level=INFO msg="natsbridge: NATS connection state" role=consumer durable=logged state=connected`))
	assert.Contains(t, out, `level=INFO msg="natsbridge: durable consumer started" role=consumer durable=logged`)
	assert.Contains(t, out, `level=INFO msg="natsbridge: durable consumer stopped" role=consumer durable=logged`)
}

type syncWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (s syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
