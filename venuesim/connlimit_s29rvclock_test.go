package venuesim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A failed upgrade gives its ConnectLimit slot back even when a clock
// stepped back meanwhile moved its admission time (admit counts
// admissions in the clock's future from now). Before, release looked
// for the admission's own time, found none, and the slot stayed taken.
func TestS29rvConnectReleaseAfterStepBack(t *testing.T) {
	l := connLimiter{limit: 2, window: 5 * time.Minute}
	at := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	ok, _ := l.admit("ip", at)
	assert.True(t, ok)
	ok, _ = l.admit("ip", at.Add(-time.Hour)) // the clock stepped back: at is counted from here
	assert.True(t, ok)
	l.release("ip", at) // the first one's upgrade failed
	ok, _ = l.admit("ip", at.Add(-time.Hour))
	assert.True(t, ok, "its slot given back")
	ok, _ = l.admit("ip", at.Add(-time.Hour))
	assert.False(t, ok, "the limit holds")
}
