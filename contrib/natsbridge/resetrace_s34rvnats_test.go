package natsbridge

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestS34rvnatsResetWithReportInBufferAckSentAgain: the reset after a
// reconnection (redeliverLost) lands while a report the server delivered
// sits in nats.go's hands, not yet handled — the Consumer's own reading
// (delivered past the last handled, an ack awaited) cannot tell it from
// one lost. The server, reset to its ack floor, ignores that delivery's
// ack until it has delivered the report again (an ack past its next
// sequence; no confirmation): here a paused consumer holds the
// redelivery, so the first ack is ignored for sure. The ack is not sent
// again while the server does not wait for it (its info: delivered below
// the report; ackAwaited) — sent again, it held execMu until the
// redelivery, which needs a pull: with none waiting for AckWait
// (TestS47natsAckIgnoredAfterReset) — and the second delivery is dropped
// as a duplicate: each report once, in order — not the first one's ack
// awaited for AckWait (1 h; the test's wait runs out) with every later
// report held.
func TestS34rvnatsResetWithReportInBufferAckSentAgain(t *testing.T) {
	var written atomic.Int32
	b := newRVBridge(t, "s34rvreset", &cutDialer{cut: func(p []byte) []byte {
		_, n := cutAcks(p, "+ACK", 1<<30)
		written.Add(int32(n))
		return p
	}})
	cons := b.cons
	js, stream, durable := cons.execResume.js, cons.opts.Stream.Name, cons.opts.Durable
	jc, err := js.Consumer(waitCtx(t), stream, durable)
	require.NoError(t, err)

	// The first report is delivered while the Consumer is busy (execMu
	// held): in nats.go's hands, not handled.
	cons.execMu.Lock()
	locked := true
	defer func() {
		if locked {
			cons.execMu.Unlock()
		}
	}()
	b.reports(t, 0, 3)
	assert.Eventually(t, func() bool {
		info, err := jc.Info(waitCtx(t))
		return err == nil && info.NumAckPending == 1 && info.Delivered.Stream > 0
	}, generous, time.Millisecond)
	info, err := jc.Info(waitCtx(t))
	require.NoError(t, err)
	require.Greater(t, info.Delivered.Stream, cons.execHigh, "redeliverLost's reading: delivered past the last handled")
	// The reset, under execMu as redeliverLost makes it, with the
	// redelivery held.
	_, err = js.PauseConsumer(waitCtx(t), stream, durable, time.Now().Add(time.Hour))
	require.NoError(t, err)
	_, err = js.ResetConsumer(waitCtx(t), stream, durable)
	require.NoError(t, err)
	cons.execMu.Unlock()
	locked = false

	b.nextReport(t, 0)
	// Its ack was ignored (the redelivery held) and is not sent again.
	assert.Eventually(t, func() bool { return cons.ackUnawaited.load() == 1 }, generous, time.Millisecond, "the ack given up")
	require.Equal(t, int32(1), written.Load(), "the ack the server ignores sent again")
	_, err = js.ResumeConsumer(waitCtx(t), stream, durable)
	require.NoError(t, err)
	for i := 1; i < 3; i++ {
		b.nextReport(t, i)
	}
	st := b.finish(t, 3)
	require.Equal(t, uint64(1), st.ExecDuplicate, "the report delivered again dropped by its id: %+v", st)
	require.Zero(t, st.AckErrors, "%+v", st)
}
