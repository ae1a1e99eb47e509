package session

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// steppedClock is Client.Clock whose Now the test moves.
type steppedClock struct {
	wsclient.Clock
	now atomic.Int64
}

func (c *steppedClock) Now() time.Time { return time.Unix(0, c.now.Load()) }

func repeatReport(i int) *schema.CanonicalEvent {
	ev := &schema.CanonicalEvent{Type: schema.EventExecReport, Symbol: "BTC-USDT"}
	ev.UseExec().VenueOrderID = schema.MustID("o" + string(rune('a'+i%26)) + time.Duration(i).String())
	return ev
}

// TestS31RepeatsWindowBounded: a rotation's reports are remembered for
// its window however many (a repeat 300 reports back is found), at most
// maxRepeats of them (the oldest forgotten first), and, the window over
// on Client.Clock, forgotten with their memory given back past
// keepRepeats; outside a window a report is compared with nothing.
func TestS31RepeatsWindowBounded(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	t.Cleanup(r.stopNow)
	r.begin(1, 2)
	require.False(t, r.check(1, repeatReport(0)))
	for i := 1; i <= 300; i++ {
		require.False(t, r.check(1, repeatReport(i)))
	}
	assert.True(t, r.check(2, repeatReport(0)), "a repeat 300 reports back")
	assert.False(t, r.check(2, repeatReport(0)), "each copy once")
	assert.Equal(t, uint64(1), r.dropped.Load())

	// Past the ceiling: the window's index finds each report's chain
	// without scanning the window (s32sess), so this runs under -race
	// too (s32flk had cut it there when each check scanned them all).
	for i := 301; i < 301+maxRepeats+10; i++ {
		r.check(1, repeatReport(i))
	}
	assert.LessOrEqual(t, len(r.seen)-r.head, maxRepeats)
	assert.LessOrEqual(t, cap(r.seen), 2*maxRepeats+1, "compacted, not grown past the bound")

	require.Len(t, clk.fire(), 1, "the window's end on Client.Clock")
	assert.False(t, r.check(2, repeatReport(400)), "the window over: nothing matched")
	assert.Zero(t, cap(r.seen), "a busy window's memory given back")
}
