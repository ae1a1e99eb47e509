package natsbridge

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS40natsRemakeSearchesFilteredSubjects: a Consumer whose Subjects are
// two filters that do not overlap (its durable consumer filters by both)
// reads a stream that holds another venue's reports too: their stream
// sequences are gaps to it (seqGaps: never delivered here). When it made
// its durable consumer again (deleted by an operator), firstHeldGap looked
// for a message held in a gap on every subject (">"), found the other
// venue's, and started there: every report it had handled since came
// again, each dropped by stream sequence after an ack's round trip ahead
// of the new ones (ExecDuplicate). It looks on its filters only.
func TestS40natsRemakeSearchesFilteredSubjects(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 0)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "s40filters", AckWait: time.Hour, Subjects: []string{"meltica.binance.>", "meltica.okx.>"}})
	require.NoError(t, err)
	bybit := func(i int) func(*schema.CanonicalEvent) {
		return func(ev *schema.CanonicalEvent) { execReport(i)(ev); ev.Venue = schema.VenueBybit }
	}
	ingest.publish(t, execReport(0))
	ingest.publish(t, bybit(1))
	ingest.publish(t, execReport(2))
	require.Equal(t, "1000", next(t, got, anyEvent).Exec.TradeID.String())
	require.Equal(t, "1002", next(t, got, anyEvent).Exec.TradeID.String())

	// Deleted while a pull waits, the server tells the Consume at once
	// (409 "Consumer Deleted"); deleted before the pull that follows a
	// report's ack reached it, nothing answers that pull and the
	// Consume learns it only from missed heartbeats (execPullExpiry):
	// the test took 10 s instead of 0.2 s in 1 run of 4 under -race.
	// (That pull's 503 now wakes the resumer at once:
	// TestS49natsDeletedNoPullWaitingAtOnce.)
	jc, err := js.Consumer(waitCtx(t), DefaultStream, "s40filters")
	require.NoError(t, err)
	eventually(t, func() bool {
		info, err := jc.Info(waitCtx(t))
		return err == nil && info.NumAckPending == 0 && info.NumWaiting > 0
	}, "report 2 acknowledged and a pull waiting")
	require.NoError(t, js.DeleteConsumer(waitCtx(t), DefaultStream, "s40filters"))
	eventually(t, func() bool { return cons.Stats().ExecResumed > 0 }, "the Consumer made its durable consumer again")
	ingest.publish(t, execReport(3))
	require.Equal(t, "1003", next(t, got, anyEvent).Exec.TradeID.String())
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	st := cons.Stats()
	require.Zero(t, st.ExecDuplicate, "reports handled delivered again: %+v", st)
	require.Equal(t, uint64(3), st.ExecDelivered, "%+v", st)
	ingest.close(t)
	far.close(t)
}
