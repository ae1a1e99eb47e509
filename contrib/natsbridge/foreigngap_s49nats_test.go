package natsbridge

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// foreignBetween stores, after f's report 0 (stream sequence 1), an OKX
// report (2), Binance report 1 (3), an OKX report (4) and Binance report 2
// (5): a durable consumer filtered on Binance's subjects delivers 3 and 5
// only, and 2 and 4 are gaps of the Consumer's (execGaps) that it never
// delivers. The test's own pull takes reports 1 and 2.
func foreignBetween(t *testing.T, f *firstThenStopped) []jetstream.Msg {
	okx := func(i int) func(*schema.CanonicalEvent) {
		return func(ev *schema.CanonicalEvent) { execReport(i)(ev); ev.Venue = schema.VenueOKX }
	}
	f.ingest.publish(t, okx(7))
	f.ingest.publish(t, execReport(1))
	f.ingest.publish(t, okx(8))
	f.ingest.publish(t, execReport(2))
	st, err := f.js.Stream(waitCtx(t), DefaultStream)
	require.NoError(t, err)
	eventually(t, func() bool {
		info, err := st.Info(waitCtx(t))
		return err == nil && info.State.LastSeq == 5
	}, "reports stored")
	pulled := fetched(t, f.jc, 2)
	for i, m := range pulled {
		meta, err := m.Metadata()
		require.NoError(t, err)
		require.Equal(t, uint64(3+2*i), meta.Sequence.Stream)
	}
	return pulled
}

// TestS49natsForeignGapNoReset: with Subjects (a filtered durable
// consumer), the sequences of other subjects between the ack floor and the
// last delivered read as reports unreceived (execGaps counts every stream
// sequence it did not handle): a Consume restarted, or a reconnection, that
// raced an ack (the server still waits for the ack of report 1, handled
// here, below OKX's) reset the durable consumer for nothing — a Warn, and the reports
// since the ack floor delivered again, dropped by their ids. The resumer
// restarting a refused Consume reset it with report 1's ack in flight
// (ExecResumed 2: the reset, then the restart). Only sequences of the
// filters count now (lookGaps): no reset. A report of the filters lost
// among them still resets (TestS49natsFilteredLostAmidForeignReset).
func TestS49natsForeignGapNoReset(t *testing.T) {
	var log logBuf
	f := newFirstThenStopped(t, ConsumerOptions{Durable: "s49foreign", MaxAckPending: 4, AckWait: time.Hour,
		Subjects: []string{"meltica.binance.>"}, Logger: log.logger()})
	pulled := foreignBetween(t, f)
	// Report 1 handled, its ack not yet taken by the server; report 2
	// handed on and acknowledged.
	f.cons.execMu.Lock()
	f.cons.handled(pulled[0])
	f.cons.execMu.Unlock()
	f.cons.onExec(pulled[1], currentGen(f.cons))
	f.expect(t, "1002")
	info, err := f.jc.Info(waitCtx(t))
	require.NoError(t, err)
	require.Equal(t, 1, info.NumAckPending)
	require.Equal(t, uint64(5), info.Delivered.Stream)
	require.Less(t, info.AckFloor.Stream, uint64(3), "OKX's report 4 above the ack floor")

	f.cons.execTrouble(refuseBatch(t, f.js, f.jc))
	eventually(t, func() bool { return f.cons.Stats().ExecResumed > 0 }, "the Consume restarted")
	require.Equal(t, uint64(1), f.cons.Stats().ExecResumed, "reset for OKX's reports: %q", log.lines("level=WARN"))
	require.Empty(t, log.lines("level=WARN", "not acknowledged; delivered again"))
	require.NoError(t, pulled[0].DoubleAck(waitCtx(t)))
	f.close(t, 2)
}

// TestS49natsFilteredLostAmidForeignReset: TestS48natsResetForUnreceivedBelowLastHandled
// with Subjects and other subjects between: report 1 (stream sequence 3,
// between OKX's 2 and 4) never received, report 2 handed on. The look
// finds report 1 in a gap, the durable consumer is reset, and report 1
// comes again at once (not after AckWait, an hour).
func TestS49natsFilteredLostAmidForeignReset(t *testing.T) {
	f := newFirstThenStopped(t, ConsumerOptions{Durable: "s49lost", MaxAckPending: 4, AckWait: time.Hour,
		Subjects: []string{"meltica.binance.>"}})
	pulled := foreignBetween(t, f)
	f.cons.onExec(pulled[1], currentGen(f.cons)) // report 2 received; report 1 never
	f.expect(t, "1002")

	f.cons.execTrouble(refuseBatch(t, f.js, f.jc))
	f.expect(t, "1001")
	f.close(t, 3)
}
