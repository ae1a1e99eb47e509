package natsbridge

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS38natsOperatorReplayNotRepeated: an operator deletes the durable
// consumer under a running Consumer and makes it again with DeliverAll
// (the stream kept): it delivers every report of the stream again, from
// the first. The reports handed on already were dropped by their ids only
// as far as Dedup remembered them (4,096 by default; 2 here): older ones
// reached the host twice. Of the stream read, a report at or below the
// last handled and not handed back since was handled: dropped by its
// stream sequence too — whether nats.go's Consume stopped on "consumer
// deleted" or ran on without an error into the operator's consumer (no
// pull of it waiting as the consumer went), and whichever consumer the
// operator replaced (the Consumer's own, made again as the operator
// deleted: retried here until the operator's creation wins).
func TestS38natsOperatorReplayNotRepeated(t *testing.T) {
	// A memory stream: the Consumer's resume updates the stream as the
	// operator makes the consumer, and a file store races on its
	// configuration there (nats-server 2.15.2, fileStore.UpdateConfig
	// against ConsumerStore: found by -race here).
	stream := StreamOptions{Memory: true}
	srv, ingest, pub, js := storedReportsIn(t, stream, 5)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "s38replay", AckWait: generous, Dedup: 2, Stream: stream})
	require.NoError(t, err)
	for i := range 5 {
		require.Equal(t, uint64(1000+i), mustUint(t, next(t, got, anyEvent).Exec.TradeID.String()))
	}
	eventually(t, func() bool {
		c, err := js.Consumer(waitCtx(t), DefaultStream, "s38replay")
		return err == nil && c.CachedInfo().AckFloor.Stream == 5 && c.CachedInfo().NumAckPending == 0
	}, "acks confirmed")

	// The operator's consumer, from the stream's first. The Consumer may
	// make its own first (from after report 4): deleted and tried again.
	eventually(t, func() bool {
		_ = js.DeleteConsumer(waitCtx(t), DefaultStream, "s38replay")
		_, err := js.CreateConsumer(waitCtx(t), DefaultStream, jetstream.ConsumerConfig{Durable: "s38replay",
			AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy, MaxAckPending: 1, AckWait: generous})
		return err == nil
	}, "the operator's consumer made")
	eventually(t, func() bool {
		c, err := js.Consumer(waitCtx(t), DefaultStream, "s38replay")
		return err == nil && c.CachedInfo().AckFloor.Stream == 5 && c.CachedInfo().NumAckPending == 0
	}, "the replay read")
	// (Its execGenFrom was its ack floor's next, 1, when the Consumer
	// resumed on it; a late error of the Consume it replaced may resume it
	// once more, from 6: not asserted.)
	cons.execMu.Lock()
	require.Equal(t, uint64(5), cons.execReplayTo, "reports 0 to 4 handled when the operator's consumer was found")
	cons.execMu.Unlock()
	ingest.publish(t, execReport(5))
	ev := next(t, got, anyEvent)
	require.Equal(t, "1005", ev.Exec.TradeID.String(), "a report handed on again: %s %s", ev.Type, ev.Exec.TradeID)

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	stats := cons.Stats()
	require.Equal(t, uint64(6), stats.ExecDelivered, "%+v", stats)
	require.Zero(t, stats.ExecLost, "%+v", stats)
	ingest.close(t)
	far.close(t)
}
