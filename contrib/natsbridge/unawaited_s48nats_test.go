package natsbridge

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestS48natsGivenUpAckNotTrustedAtRestart: a report handed on whose ack
// the server ignored (the durable consumer reset under it) is recorded as
// handled (execHigh), its ack given up (ackAwaited). Delivered again into
// a Consume the resumer then stops (a refusal's restart), it was dropped
// there, and the resumer skipped the reset: nothing past the last report
// handled, nothing unhandled below it. The server waited for its ack for
// AckWait (an hour here), and with MaxAckPending 1 after the refusal
// report 2 waited with it. A given-up ack above the ack floor
// (execUnawaited) now leaves handled reports untrusted: the reset is made
// (s47nats found the window, commit 1d877eb1, without a test). Report
// 1's deliveries are the test's own pulls: the first handed to onExec,
// the second never acknowledged (the stopped Consume's).
func TestS48natsGivenUpAckNotTrustedAtRestart(t *testing.T) {
	f := newFirstThenStopped(t, ConsumerOptions{Durable: "s48unawaited", MaxAckPending: 4, AckWait: time.Hour})
	storeReports(t, f.js, f.ingest, 1, 2)
	first := fetched(t, f.jc, 1)[0]
	_, err := f.js.ResetConsumer(waitCtx(t), DefaultStream, "s48unawaited") // an operator's, under report 1
	require.NoError(t, err)
	f.cons.onExec(first, currentGen(f.cons)) // handed on; its ack ignored, given up
	f.expect(t, "1001")
	require.Equal(t, uint64(1), f.cons.ackUnawaited.n.Load(), "the ack given up")
	fetched(t, f.jc, 1) // report 1 again, into the Consume about to stop
	storeReports(t, f.js, f.ingest, 2, 3)

	f.cons.execTrouble(refuseBatch(t, f.js, f.jc))
	f.expect(t, "1002")
	f.close(t, 3)
}
