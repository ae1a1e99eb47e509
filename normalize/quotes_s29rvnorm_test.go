package normalize

import "testing"

// Review of S29's timed quotes: a rotation's overlap replays two distinct
// quotes of one millisecond (A sends v1, v3 at 2000 ms; B, lagging, sends
// them again). Only the last one's hash was kept, so B's v1 — older than
// v3, already delivered — was delivered after v3 (a quote older than one
// delivered: contract 4), and B's v3 then again. Every distinct quote of
// the mark's time is remembered (a few): both are dropped as repeats; a
// new distinct one of the same time is still delivered. Failed before the
// fix: B's v1 and v3 delivered.
func TestS29rvTimedQuoteSameMillisecondOverlap(t *testing.T) {
	steps := []quoteStep{
		{1, 2000, 1, true},
		{3, 2000, 2, true},  // another update at the same time
		{1, 2000, 3, false}, // the overlap's v1: older than v3
		{3, 2000, 4, false}, // the overlap's v3
		{5, 2000, 5, true},  // another update still
		{7, 2000, 6, true},
		{1, 2000, 7, false},
		{6, 2001, 8, true},
		{7, 2000, 9, false}, // older
	}
	for _, c := range timedQuoteCases {
		t.Run(string(c.venue)+" "+c.name, func(t *testing.T) { runQuoteSteps(t, c, steps, 4) })
	}
}
