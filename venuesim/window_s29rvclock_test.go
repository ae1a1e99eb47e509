package venuesim

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A rate-limit window read by goroutines that took the clock before its
// lock: a request stamped just before a minute's boundary may be counted
// after one of the new minute. It counts in the new minute; before, it
// put the window back to the old minute at its own weight, and the next
// request of the new minute started it again from 0: the new minute's
// weight was lost (a refusal of EnforceRateLimits came late, rateLimits'
// count fell). A clock stepped back further than one interval still
// starts the window again.
func TestS29rvWindowStraggler(t *testing.T) {
	var w window
	assert.EqualValues(t, 5, w.add(minuteMs+1, minuteMs, 5), "the new minute")
	assert.EqualValues(t, 7, w.add(minuteMs-1, minuteMs, 2), "stamped before the boundary, counted after")
	assert.EqualValues(t, 8, w.add(minuteMs+2, minuteMs, 1), "the new minute's weight kept")
	assert.EqualValues(t, 1, w.add(minuteMs+1-60*minuteMs, minuteMs, 1), "an hour back: a new window")
	assert.EqualValues(t, 1, w.add(2*minuteMs, minuteMs, 1), "on: a new minute")

	var r rateCounters
	r.spend(minuteMs+1, 8)
	_, minute := r.spendIn(minuteMs-1, 2) // a connection stamped before the boundary
	r.refund(minute, 2)                   // whose upgrade failed
	assert.EqualValues(t, 8, r.spend(minuteMs+2, 0), "refunded from the minute it was counted in")
	_, minute = r.spendIn(2*minuteMs-1, 2)
	r.spend(2*minuteMs, 3) // a new minute
	r.refund(minute, 2)
	assert.EqualValues(t, 3, r.spend(2*minuteMs+1, 0), "not from a minute it was not counted in")
}
