package natsbridge

import (
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS32rvnatsGoexitResumesAtFirstTry: a runtime.Goexit in the host
// dispatcher's OnCriticalOverflow ends nats.go's goroutine of the durable
// consumer; the resumer stops that Consume and consumes again. It waited
// for the old Consume's Closed, which nats.go closes from that very
// goroutine (the subscription's closed handler) — ended, so the wait ran
// out its resumeTimeout, the try counted failed and logged at Warn
// ("making it again failed"), and the reports waited for the retry.
// The reports must all come, in order, once, and the first try succeed.
func TestS32rvnatsGoexitResumesAtFirstTry(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	far := &node{pools: schema.NewPools(nil)}
	var faults atomic.Int64
	far.d = dispatch.New(far.pools.Events, &dispatch.Options{OnCriticalOverflow: func(*dispatch.Subscription, dispatch.Stats) {
		faults.Add(1)
		runtime.Goexit()
	}})
	stuck, err := far.d.Subscribe(dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}}, &dispatch.SubscribeOptions{CriticalBound: 1})
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "goexit-resume", AckWait: 2 * time.Second})
	require.NoError(t, err)
	const n = 4
	for i := range n {
		ingest.publish(t, execReport(i))
	}
	isReport := func(ev *schema.CanonicalEvent) bool { return ev.Type == schema.EventExecReport }
	for i := range n {
		require.Equal(t, strconv.Itoa(1000+i), next(t, got, isReport).Exec.TradeID.String(), "report %d", i)
	}
	require.GreaterOrEqual(t, faults.Load(), int64(1))
	eventually(t, func() bool { return cons.Stats().ExecResumed >= 1 }, "not resumed: %+v", cons.Stats())
	require.Zero(t, cons.execResume.failed.load(), "a try to consume again failed (waited for the ended Consume's Closed)")
	require.NoError(t, far.d.Unsubscribe(stuck))
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	require.Equal(t, uint64(n), cons.Stats().ExecDelivered, "%+v", cons.Stats())
	ingest.close(t)
	far.close(t)
}
