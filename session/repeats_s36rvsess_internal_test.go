package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestS36rvsessRepeatsWindowCoversTheGrace: since s36sess a rotation's
// replaced connection stays open RotationOverlap (prepareOverlap) after
// the switch and delivers every frame, the venue's reports included
// (wsclient Options.IsData calls none data on a private connection); the
// switch itself comes up to prepareOverlap after the rotation began
// (Prepare's ctx ends RotationOverlap after the call). A report the two
// connections both get near the grace's end, copies a network's skew
// (answerTimeout) apart, must still find its copy: the window armed at
// begin lasts at least that long. Before s36rvsess it lasted
// prepareOverlap + answerTimeout (30 s): a report sent in the grace's
// last 10 s (switch at the latest) was delivered twice.
func TestS36rvsessRepeatsWindowCoversTheGrace(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	t.Cleanup(r.stopNow)
	r.begin(1, 2)
	require.False(t, r.check(2, repeatReport(1)), "the new connection's copy first")
	latest := prepareOverlap /* the switch */ + prepareOverlap /* the grace */ + answerTimeout /* skew */
	ends := clk.fire()
	require.Len(t, ends, 1)
	assert.GreaterOrEqual(t, ends[0], latest, "the window ends before the replaced connection's last copy may come")
	assert.Equal(t, repeatsWindow, ends[0])
}
