package natsbridge

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS47natsAckIgnoredAfterReset: the durable consumer is reset under a
// report the Consumer is handing on (an operator's reset here; the
// Consumer's own after a reconnection, resetLost, when the report was
// still in nats.go's hands as it read the link lost), and no pull waits
// that would deliver it again. The server ignores the report's ack
// without an answer (nats-server consumer.go processAckMsg: an ack at or
// past the next sequence to deliver) until it has delivered the report
// again, and the ack was sent again every ackRetry until AckWait (an hour
// here) holding execMu: the next report, and the resumer, waited that
// long (TestS39natsOperatorLimitsChangedLive timed out, about 1 run in
// 1,000 under load: its Consume's pulls were refused, a report received
// late was reset by resetLost). An ack the server does not wait for is
// no longer waited for: the report comes again and is dropped by its id.
//
// Two resets, the second once the first has delivered the report again
// into the Consume's last pull: then no pull waits (nats.go pulls again
// only once the report in hand is done) and the report in hand is one the
// server no longer waits for.
func TestS47natsAckIgnoredAfterReset(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 2)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	var unawaited atomic.Bool // report 1000 in hand reset, no pull waiting
	reset := func() bool {
		_, err := js.ResetConsumer(waitCtx(t), DefaultStream, "s47reset")
		return assert.NoError(t, err)
	}
	var info *jetstream.ConsumerInfo
	noPull := func() bool {
		jc, err := js.Consumer(waitCtx(t), DefaultStream, "s47reset")
		if err == nil {
			info = jc.CachedInfo()
		}
		return err == nil && info.NumWaiting == 0
	}
	// Inline: inside the Publish of the report, before its ack.
	_, err := far.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, &dispatch.SubscribeOptions{Inline: true,
		Handler: func(ev *schema.CanonicalEvent) {
			if ev.Exec.TradeID.String() != "1000" || unawaited.Load() || !reset() {
				return
			}
			// Delivered again into the Consume's last pull (MaxAckPending
			// 1: a pull of 2), which no pull follows; or that pull had
			// expired (10 s), and nothing delivers it again.
			if !assert.Eventually(t, noPull, generous, time.Millisecond, "the Consume's pull gone") {
				return
			}
			if info.Delivered.Stream == 1 && !reset() {
				return
			}
			unawaited.Store(true)
		}})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "s47reset", MaxAckPending: 1, AckWait: time.Hour})
	require.NoError(t, err)
	require.Equal(t, "1000", next(t, got, anyEvent).Exec.TradeID.String())
	require.Equal(t, "1001", next(t, got, anyEvent).Exec.TradeID.String(), "report 1000 handed on twice, or 1001 held")
	require.True(t, unawaited.Load(), "report 1000 in hand not reset with no pull waiting")
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	st := cons.Stats()
	require.Equal(t, uint64(2), st.ExecDelivered)
	require.GreaterOrEqual(t, st.ExecDuplicate, uint64(1), "report 1000 came again, dropped by its id")
	require.Zero(t, st.AckErrors)
	ingest.close(t)
	far.close(t)
	select {
	case ev := <-got:
		t.Fatalf("one more report: %s", ev.Exec.TradeID.String())
	default:
	}
}
