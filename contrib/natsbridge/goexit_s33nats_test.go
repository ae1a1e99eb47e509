package natsbridge

import (
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// goexitRig is the set-up the tests of host code ending the Consumer's
// goroutines share: a NATS server, an ingest node with its Publisher, and
// a far node whose dispatcher's OnCriticalOverflow ends its caller with
// runtime.Goexit (as t.FailNow in a test's callback does), with a
// subscriber that takes its first event and then blocks until release,
// so that its critical lane (bound 1) goes over at the next critical
// events, and a collector of the far node's events (got).
type goexitRig struct {
	srv     *embedded.Server
	ingest  *node
	far     *node
	faults  atomic.Int64
	got     <-chan *schema.CanonicalEvent
	stuck   *dispatch.Subscription
	release chan struct{}
	pub     *Publisher
}

// newGoexitRig starts the rig; stuck filters the blocking subscriber,
// collect the collector.
func newGoexitRig(t *testing.T, stuck, collect dispatch.Filter) *goexitRig {
	t.Helper()
	r := &goexitRig{srv: startServer(t), ingest: newNode(t), far: &node{pools: schema.NewPools(nil)}, release: make(chan struct{})}
	r.far.d = dispatch.New(r.far.pools.Events, &dispatch.Options{OnCriticalOverflow: func(*dispatch.Subscription, dispatch.Stats) {
		r.faults.Add(1)
		runtime.Goexit()
	}})
	var err error
	r.stuck, err = r.far.d.Subscribe(stuck, &dispatch.SubscribeOptions{CriticalBound: 1,
		Handler: func(*schema.CanonicalEvent) { <-r.release }})
	require.NoError(t, err)
	r.got = r.far.collect(t, collect)
	r.pub, err = NewPublisher(waitCtx(t), connect(t, r.srv.ClientURL(), nil), r.ingest.d, nil)
	require.NoError(t, err)
	return r
}

// goexited waits until the host's OnCriticalOverflow has ended a goroutine.
func (r *goexitRig) goexited(t *testing.T) {
	t.Helper()
	eventually(t, func() bool { return r.faults.Load() >= 1 }, "the host's OnCriticalOverflow ran: %d", r.faults.Load())
}

// close releases the blocking subscriber, closes the Publisher and the
// Consumers and checks the nodes' pools.
func (r *goexitRig) close(t *testing.T, cons ...*Consumer) {
	t.Helper()
	close(r.release)
	require.NoError(t, r.far.d.Unsubscribe(r.stuck))
	require.NoError(t, r.pub.Close(closeCtx(t)))
	for _, c := range cons {
		require.NoError(t, c.Close(closeCtx(t)))
	}
	r.ingest.close(t)
	r.far.close(t)
}

var binanceOnly = dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}}

func isReport(ev *schema.CanonicalEvent) bool { return ev.Type == schema.EventExecReport }

// TestS33natsReportAfterGoexitNotHeldForAckWait: a runtime.Goexit in the
// host dispatcher's OnCriticalOverflow, inside the Publish of a report,
// ended nats.go's goroutine of the durable consumer. The report in hand
// was acknowledged and the Consume started again, but the server had sent
// the next report (MaxAckPending 1: right after that ack) to the ended
// goroutine's subscription, where it waited out AckWait (30 s by
// default) before coming again: a fill a trading bot heard of 30 s late.
// With an AckWait longer than the test's deadline, every report must
// still come, in order, once.
func TestS33natsReportAfterGoexitNotHeldForAckWait(t *testing.T) {
	r := newGoexitRig(t, binanceOnly, binanceOnly)
	cons, err := NewConsumer(waitCtx(t), connect(t, r.srv.ClientURL(), nil), r.far.d, r.far.pools.Events,
		&ConsumerOptions{Durable: "goexit-ackwait", AckWait: time.Hour})
	require.NoError(t, err)
	const n = 6
	for i := range n {
		r.ingest.publish(t, execReport(i))
	}
	for i := range n {
		require.Equal(t, strconv.Itoa(1000+i), next(t, r.got, isReport).Exec.TradeID.String(), "report %d", i)
	}
	require.GreaterOrEqual(t, r.faults.Load(), int64(1), "the host's OnCriticalOverflow never ran")
	require.Zero(t, cons.Stats().ExecResumed, "nats.go's goroutine of the durable consumer ended")
	r.close(t, cons)
	require.Equal(t, uint64(n), cons.Stats().ExecDelivered, "%+v", cons.Stats())
	select {
	case ev := <-r.got:
		t.Fatalf("delivered twice or unexpected: %+v", ev)
	default:
	}
}

// TestS33natsGoexitPublishingDisconnectedStillMarksStale: the Consumer
// publishes its NATS connection's states into the host's dispatcher on
// its watcher goroutine, and notes a lost link after the Publish: a
// runtime.Goexit in the dispatcher's OnCriticalOverflow inside the Publish
// of "disconnected" skipped the note, so the venues it brought were never
// told that their streams were stale (no gap marker after a link loss),
// and the host's OnState never saw the state. Both must come.
func TestS33natsGoexitPublishingDisconnectedStillMarksStale(t *testing.T) {
	r := newGoexitRig(t, dispatch.Filter{Types: []schema.EventType{schema.EventConnState}}, binanceOnly)
	var dialer embedded.Dialer
	dialer.Follow(r.srv)
	states := make(chan StateEvent, 64)
	cons, err := NewConsumer(waitCtx(t), connect(t, r.srv.ClientURL(), &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(&dialer)}}),
		r.far.d, r.far.pools.Events, &ConsumerOptions{OnState: func(e StateEvent) { states <- e }})
	require.NoError(t, err)
	awaitState(t, states, schema.ConnConnected) // the blocking subscriber holds it
	// A venue's state fills the blocking subscriber's critical lane; a
	// quote makes the venue one the Consumer brought.
	r.ingest.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Type = schema.VenueBinance, schema.EventConnState
		ev.UseControl().Kind, ev.UseControl().State = schema.ControlConnState, schema.ConnConnected
	})
	require.Equal(t, schema.EventConnState, next(t, r.got, anyEvent).Type)
	r.ingest.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventTicker
	})
	require.Equal(t, schema.EventTicker, next(t, r.got, anyEvent).Type)
	require.Zero(t, r.faults.Load())
	r.srv.Stop() // "disconnected" goes over the lane's bound: the host's Goexit
	awaitState(t, states, schema.ConnDisconnected)
	r.goexited(t)
	g := next(t, r.got, ofType(schema.EventGap))
	require.Equal(t, schema.EventUnknown, g.Control.GapType)
	require.Equal(t, schema.VenueBinance, g.Venue)
	// The Publisher's link is down too before it closes: else its Close
	// may flush into the link dropping (nats: connection closed).
	eventually(t, func() bool { return !r.pub.nc.IsConnected() }, "the Publisher's link still up")
	r.close(t, cons)
}

// TestS33natsCoreGoexitCounted: a runtime.Goexit in the host dispatcher's
// OnCriticalOverflow inside a Publish on the Consumer's loop ended the
// loop before what followed the Publish: the message was not counted in
// Delivered (dispatch had delivered it), and inside the Publish of a gap
// marker the event the marker goes before was neither handed on nor
// given back to its pool (a trade lost unannounced, an event leaked), nor
// the marker counted in Gaps. Every message must reach the host, counted
// once, and every event come back to the pool (far.close checks it).
func TestS33natsCoreGoexitCounted(t *testing.T) {
	t.Run("state", func(t *testing.T) {
		r := newGoexitRig(t, binanceOnly, binanceOnly)
		cons, err := NewConsumer(waitCtx(t), connect(t, r.srv.ClientURL(), nil), r.far.d, r.far.pools.Events, nil)
		require.NoError(t, err)
		const n = 4 // the third goes over the blocking subscriber's bound
		for i := range n {
			r.ingest.publish(t, func(ev *schema.CanonicalEvent) {
				ev.Venue, ev.Type = schema.VenueBinance, schema.EventConnState
				ev.UseControl().Kind, ev.UseControl().State, ev.UseControl().Code = schema.ControlConnState, schema.ConnConnected, int64(i)
			})
		}
		for i := range n {
			require.Equal(t, int64(i), next(t, r.got, anyEvent).Control.Code)
		}
		r.goexited(t)
		eventually(t, func() bool { return cons.Stats().Delivered == n }, "delivered not counted: %+v", cons.Stats())
		r.close(t, cons)
	})
	t.Run("marker", func(t *testing.T) {
		r := newGoexitRig(t, dispatch.Filter{Types: []schema.EventType{schema.EventGap}}, binanceOnly)
		cons, err := NewConsumer(waitCtx(t), connect(t, r.srv.ClientURL(), nil), r.far.d, r.far.pools.Events, nil)
		require.NoError(t, err)
		nc := connect(t, r.srv.ClientURL(), nil)
		// A loss before 3, 5 and 7: the third marker goes over the
		// blocking subscriber's bound. A stream of no symbol, as a venue's
		// all-market liquidations: its markers are critical events (one
		// about a symbol's stream goes in line, no critical lane to fill).
		seqs := []uint64{1, 3, 5, 7, 8}
		for _, seq := range seqs {
			ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Type: schema.EventLiquidation, SeqProvider: seq}
			require.NoError(t, nc.Publish(Subject(DefaultPrefix, schema.VenueBinance, "", schema.EventLiquidation), wire.Append(nil, ev, seq)))
		}
		require.NoError(t, nc.Flush())
		// The markers, critical, may overtake the events of the ordered
		// lane: each lane is checked in its order.
		var got []uint64
		var counts []uint64
		for len(got) < len(seqs) || len(counts) < 3 {
			ev := next(t, r.got, anyEvent)
			switch ev.Type {
			case schema.EventGap:
				counts = append(counts, ev.Control.GapCount)
			case schema.EventLiquidation:
				got = append(got, ev.SeqProvider)
			default:
				t.Fatalf("unexpected %+v", ev)
			}
		}
		require.Equal(t, seqs, got)
		require.Equal(t, []uint64{1, 1, 1}, counts)
		r.goexited(t)
		eventually(t, func() bool { s := cons.Stats(); return s.Delivered == uint64(len(seqs)) && s.Gaps == 3 }, "not counted: %+v", cons.Stats())
		r.close(t, cons)
	})
}

// TestS33natsGoexitMarkingStaleTellsEveryVenue: a lost link is told to
// every venue the Consumer brought, one gap marker each, published in a
// loop on the Consumer's loop goroutine: a runtime.Goexit in the host
// dispatcher's OnCriticalOverflow inside the first marker's Publish ended
// the loop, and the venues after it were never told their streams were
// stale. Each must get its marker.
func TestS33natsGoexitMarkingStaleTellsEveryVenue(t *testing.T) {
	r := newGoexitRig(t, dispatch.Filter{Types: []schema.EventType{schema.EventGap}}, dispatch.Filter{})
	cons, err := NewConsumer(waitCtx(t), connect(t, r.srv.ClientURL(), nil), r.far.d, r.far.pools.Events, nil)
	require.NoError(t, err)
	nc := connect(t, r.srv.ClientURL(), nil)
	raw := func(ev *schema.CanonicalEvent) {
		require.NoError(t, nc.Publish(Subject(DefaultPrefix, ev.Venue, ev.Symbol, ev.Type), wire.Append(nil, ev, 0)))
		require.NoError(t, nc.Flush())
		require.Equal(t, ev.Type, next(t, r.got, func(g *schema.CanonicalEvent) bool { return g.Venue == ev.Venue }).Type)
	}
	// Two markers fill the blocking subscriber's critical lane: the
	// first stale marker goes over it.
	for range 2 {
		raw(&schema.CanonicalEvent{Venue: schema.VenueKraken, Type: schema.EventGap, Control: &schema.Control{Kind: schema.ControlGap}})
	}
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit}
	for _, v := range venues {
		raw(&schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventTicker})
	}
	require.Zero(t, r.faults.Load())
	r.srv.Stop()
	told := map[schema.Venue]bool{}
	timeout := time.After(generous)
	for len(told) < len(venues) {
		select {
		case g := <-r.got:
			if g.Type == schema.EventGap && strings.Contains(g.Control.Reason, "connection lost") {
				told[g.Venue] = true
			}
		case <-timeout:
			t.Fatalf("only %v told of the lost link", told)
		}
	}
	r.goexited(t)
	eventually(t, func() bool { return !r.pub.nc.IsConnected() }, "the Publisher's link still up") // see above
	r.close(t, cons)
}
