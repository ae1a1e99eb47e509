package natsbridge

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS36natsOverlappingDeliveriesNoReset: after a resume the old
// Consume's delivery may still be in progress while the new one's
// starts, and both wait for execMu at once. The door was one value:
// whichever took execMu first cleared it, and the other's report — the
// one the server waits for the ack of — read as lost, so the reset after
// a reconnection (resetLost) delivered it again for nothing (counted in
// ExecResumed, told at Warn "delivered into the lost link", the copy
// dropped by its id). Every delivery waiting is counted: no reset.
func TestS36natsOverlappingDeliveriesNoReset(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 64)
	_, err = far.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	var log logBuf
	nc := connect(t, srv.ClientURL(), nil)
	cons, err := NewConsumer(waitCtx(t), nc, far.d, far.events,
		&ConsumerOptions{Durable: "s36door", AckWait: time.Hour, PoolWait: time.Hour, Logger: log.logger()})
	require.NoError(t, err)
	js := cons.execResume.js
	jc, err := js.Consumer(waitCtx(t), cons.opts.Stream.Name, cons.opts.Durable)
	require.NoError(t, err)

	// The first to take execMu waits inside for an event (PoolWait 1 h),
	// so that the other stays at the door.
	far.hold(0)
	cons.execMu.Lock()
	locked := true
	defer func() {
		if locked {
			cons.execMu.Unlock()
		}
	}()
	ingest.publish(t, execReport(0))
	// The durable consumer's Consume (the new one) delivers report 0: it
	// waits at the door.
	eventually(t, func() bool {
		info, err := jc.Info(waitCtx(t))
		return err == nil && info.NumAckPending == 1 && cons.execDoor.waiting(0, info.Delivered.Stream) == 1
	}, "report 0 delivered, at the door")
	// An old Consume's delivery of the same report (read here through a
	// consumer of its own) waits at the door too.
	old, err := js.CreateOrUpdateConsumer(waitCtx(t), cons.opts.Stream.Name, jetstream.ConsumerConfig{Durable: "s36old", AckPolicy: jetstream.AckExplicitPolicy})
	require.NoError(t, err)
	batch, err := old.Fetch(1, jetstream.FetchMaxWait(generous))
	require.NoError(t, err)
	m := <-batch.Messages()
	require.NotNil(t, m, "the old consumer's delivery: %v", batch.Error())
	oldDone := make(chan struct{})
	go func() {
		defer close(oldDone)
		cons.onExec(m, 0)
	}()
	eventually(t, func() bool { return doorAt(cons, 1) == 2 }, "both deliveries at the door")
	cons.execMu.Unlock()
	locked = false
	// One has taken execMu, and waits inside for an event; the other is
	// at the door.
	eventually(t, func() bool { return doorAt(cons, 1) == 1 }, "one delivery past the door")
	info, err := jc.Info(waitCtx(t))
	require.NoError(t, err)
	require.Equal(t, 1, info.NumAckPending)
	require.False(t, cons.resetLost(info, nil), "a report at the door is not lost")

	far.release()
	ev := next(t, got, anyEvent)
	require.Equal(t, "1000", ev.Exec.TradeID.String())
	<-oldDone
	ingest.publish(t, execReport(1))
	require.Equal(t, "1001", next(t, got, anyEvent).Exec.TradeID.String())
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	select {
	case ev := <-got:
		require.Failf(t, "a report twice", "%v", ev.Exec.TradeID)
	default:
	}
	st := cons.Stats()
	require.Equal(t, uint64(2), st.ExecDelivered, "%+v", st)
	// The old Consume's copy: dropped by its id when the new one's came
	// first, handed back when it did (TestS37rvnatsOldConsumeLateInOrder).
	require.LessOrEqual(t, st.ExecDuplicate, uint64(1), "%+v", st)
	require.Zero(t, st.ExecResumed, "nothing was lost: %+v", st)
	require.Empty(t, log.lines("level=WARN"), "nothing was lost")
	ingest.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}

// doorAt returns how many deliveries of stream sequence seq wait for
// execMu.
func doorAt(c *Consumer, seq uint64) int {
	c.execDoor.mu.Lock()
	defer c.execDoor.mu.Unlock()
	return c.execDoor.at[seq]
}
