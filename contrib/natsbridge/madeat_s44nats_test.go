package natsbridge

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS44natsMadeElsewhereReset: the durable consumer the resumer makes
// again, the server still deleting the one of the same name, was seen
// answering its creation (OptStartSeq 3) with Delivered.Stream 1 and a
// report pending: started at the stream's first, and delivered a report
// into the old Consume's pull, which held every later report for AckWait
// (TestS24DurableConsumerDeletedRecreated, 1 run in about 200 under
// load; not made to happen at will). madeAt resets such a consumer to
// where it was made to start, and leaves one that starts there alone:
// given the server's answers, the durable consumer read by a running
// Consumer is reset to the last report handled, which comes again,
// dropped as a duplicate.
func TestS44natsMadeElsewhereReset(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 3)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "s44made", AckWait: time.Hour})
	require.NoError(t, err)
	for range 3 {
		next(t, got, anyEvent)
	}
	jc, err := js.Consumer(waitCtx(t), DefaultStream, "s44made")
	require.NoError(t, err)
	acked := func() bool {
		info, err := jc.Info(waitCtx(t))
		return err == nil && info.AckFloor.Stream == 3 && info.NumAckPending == 0
	}
	eventually(t, acked, "every report acknowledged")

	// Made at 4, as the server answered for a consumer made there: alone.
	cons.madeAt(waitCtx(t), &jetstream.ConsumerInfo{Delivered: jetstream.SequenceInfo{Stream: 3}}, 4)
	// Made at 3, answered as seen: reset to 3.
	cons.madeAt(waitCtx(t), &jetstream.ConsumerInfo{Delivered: jetstream.SequenceInfo{Consumer: 1, Stream: 1}, NumAckPending: 1}, 3)
	eventually(t, func() bool { return cons.Stats().ExecDuplicate == 1 && acked() }, "report 2 delivered again from the reset, dropped")

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	st := cons.Stats()
	require.Equal(t, uint64(3), st.ExecDelivered, "%+v", st)
	require.Equal(t, uint64(1), st.ExecDuplicate, "%+v", st)
	ingest.close(t)
	far.close(t)
	select {
	case ev := <-got:
		t.Fatalf("a report reached the host again: %+v", ev)
	default:
	}
}
