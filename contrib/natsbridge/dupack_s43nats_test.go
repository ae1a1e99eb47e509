package natsbridge

import (
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS43natsLateDuplicateAckAfterReset: a late delivery of a report
// handled already, arriving after the durable consumer was reset to a
// stream sequence at or below it (an operator's reset to a sequence here;
// the Consumer's own to the ack floor with MaxAckPending above 1 alike),
// before the server delivered that report again. It is dropped as a
// duplicate and acknowledged — an ack the server ignores without a reply
// (nats-server consumer.go processAckMsg: at or past the next sequence to
// deliver). The ack, waited for and sent again each second until AckWait
// (1 h here), held execMu: the report the server delivered again after the
// reset waited at the door behind it, and with MaxAckPending 1 every
// later one. The test holds execMu across the reset, so that the
// Consumer's own delivery of the first report after it (at the door)
// cannot be acknowledged first — the server's next to deliver stays at
// the late report's sequence — and runs the late delivery past the door
// itself. The late delivery is the test's own pull of the durable
// consumer (its ack subject the durable consumer's, as a Consume's is),
// made before the Consumer started (which reset it at start).
func TestS43natsLateDuplicateAckAfterReset(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 3)
	const durable = "s43dupack"
	late := pulledBefore(t, js, durable, 3)[1] // report 1, stream sequence 2
	meta, err := late.Metadata()
	require.NoError(t, err)
	require.Equal(t, uint64(2), meta.Sequence.Stream)

	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: durable, AckWait: time.Hour})
	require.NoError(t, err)
	for i := range 3 {
		require.Equal(t, strconv.Itoa(1000+i), next(t, got, anyEvent).Exec.TradeID.String())
	}
	eventually(t, func() bool { return cons.Stats().ExecDelivered == 3 }, "the reports handled")

	cons.execMu.Lock() // the acks of the reports handed on confirmed
	_, err = js.ResetConsumerToSequence(waitCtx(t), DefaultStream, durable, 1)
	if err != nil {
		cons.execMu.Unlock()
		require.NoError(t, err)
	}
	// The server delivers report 0 again: it waits at the door, and the
	// server for its ack (MaxAckPending 1), its next to deliver report 1.
	eventually(t, func() bool { return doorAt(cons, 1) == 1 }, "report 0 again at the door")
	done := make(chan struct{})
	go func() {
		defer close(done)
		cons.execLocked(late, meta, 2, cons.execGen)
	}()
	select {
	case <-done:
	case <-time.After(generous):
		cons.execMu.Unlock()
		t.Fatal("the late duplicate's ack, unanswered, held execMu")
	}
	require.Equal(t, uint64(1), cons.Stats().ExecDuplicate, "the late delivery dropped as a duplicate")
	cons.execMu.Unlock()

	// The server delivers again the three reports from the reset on: each
	// dropped as a duplicate, acknowledged; none reaches the host again.
	eventually(t, func() bool { return cons.Stats().ExecDuplicate == 4 }, "the reports delivered again dropped")
	jc, err := js.Consumer(waitCtx(t), DefaultStream, durable)
	require.NoError(t, err)
	eventually(t, func() bool {
		info, err := jc.Info(waitCtx(t))
		return err == nil && info.AckFloor.Stream == 3 && info.NumAckPending == 0
	}, "every report acknowledged")
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	st := cons.Stats()
	require.Equal(t, uint64(3), st.ExecDelivered)
	require.Zero(t, st.AckErrors, "the late ack confirmed once the server delivered its report again")
	ingest.close(t)
	far.close(t)
	select {
	case ev := <-got:
		t.Fatalf("a report reached the host again: %+v", ev)
	default:
	}
}

// pulledBefore makes the durable consumer durable (AckWait 1 h,
// MaxAckPending n) and pulls the n reports the stream holds from it,
// unacknowledged: deliveries whose ack subjects are the durable
// consumer's, as a Consume's are, for a Consumer started after on it to
// get late.
func pulledBefore(t *testing.T, js jetstream.JetStream, durable string, n int) []jetstream.Msg {
	pre, err := js.CreateOrUpdateConsumer(waitCtx(t), DefaultStream, jetstream.ConsumerConfig{Durable: durable,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Hour, MaxAckPending: n})
	require.NoError(t, err)
	return fetched(t, pre, n)
}
