package natsbridge

import (
	"testing"
	"time"
)

// TestS48natsResetForUnreceivedBelowLastHandled: with MaxAckPending above
// 1 a report can be lost below the last one handled — report 1 delivered
// into a link that died (a Consume's pull still on the server across a
// reconnection, or one the resumer stopped), report 2 received after it
// and handed on. The resumer, restarting a Consume refused for a limit
// (or after the reconnection, resetLost), skipped the reset whenever the
// server had delivered nothing past the last report handled (execHigh):
// report 1, which it waited for, came after AckWait (an hour here), and
// with the new MaxAckPending of 1 every later report with it
// (TestS39natsOperatorLimitsChangedLive timed out 2 runs in 2,915 under
// load, its info read NumAckPending 1, AckFloor 1, Delivered 4 with
// stream sequences 3 and 4 handled). A report not handled here (execGaps)
// between the ack floor and the last delivered, not at the door, now
// reads as unreceived: the durable consumer is reset and report 1 comes
// again at once (report 2 with it, dropped by its id). Report 1's
// delivery is the test's own pull of the durable consumer, never
// acknowledged (the lost link); report 2's too, handed to onExec as the
// Consume would.
func TestS48natsResetForUnreceivedBelowLastHandled(t *testing.T) {
	f := newFirstThenStopped(t, ConsumerOptions{Durable: "s48below", MaxAckPending: 4, AckWait: time.Hour})
	storeReports(t, f.js, f.ingest, 1, 3)
	pulled := fetched(t, f.jc, 2)
	f.cons.onExec(pulled[1], currentGen(f.cons)) // report 2 received; report 1 never
	f.expect(t, "1002")

	f.cons.execTrouble(refuseBatch(t, f.js, f.jc))
	f.expect(t, "1001")
	f.close(t, 3)
}
