package wsclient

import (
	"testing"
	"time"
)

// slowPeerWait bounds a wait on a peer that writes slowly by design — a
// stream written a byte a write, each byte a loopback segment the client
// reads on its own under the race detector: on a machine loaded 10–25×
// its 300 Kraken messages took longer than wait (TestS28SplitWritesEndToEnd
// failed 3 runs in 3 with nothing past its 10 s). A failure guard only.
const slowPeerWait = 5 * time.Minute

// waitForWithin is waitFor with its own deadline d, polling on the test's
// goroutine, and its failure names what the sink had at the deadline (not
// at the call).
func (k *sink) waitForWithin(t *testing.T, d time.Duration, msgs ...string) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		have := map[string]bool{}
		got := k.got()
		for _, m := range got {
			have[m] = true
		}
		missing := 0
		for _, m := range msgs {
			if !have[m] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages %q not all delivered within %v; %d delivered, the last %q", msgs, d, len(got), got[max(0, len(got)-3):])
		}
		<-tick.C
	}
}
