package natsbridge

import (
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
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
		ev.Control.Kind, ev.Control.State = schema.ControlConnState, schema.ConnConnected
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
	r.close(t, cons)
}
