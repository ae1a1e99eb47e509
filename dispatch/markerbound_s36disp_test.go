package dispatch

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS36WaitingGapMarkersAreBounded: a subscriber held still (its handler
// stuck) while trades of ever new symbols come (options and dated futures
// listed by the thousand) kept one gap marker waiting per ordered stream
// that lost an event — an event of 1,928 bytes, a list node and a map
// entry each — without end: the ordered lane's bound held its events but
// not the markers of what it dropped (the coalescing lane has the same
// bound for its stale markers, maxStaleStreams). Past the bound, a stream
// without a marker of its own is told by one about every symbol of its
// venue and type, and that marker still goes out before the next event of
// any stream it covers: the subscriber hears of the loss before it sees
// the stream go on.
func TestS36WaitingGapMarkersAreBounded(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{OrderedBound: 1}, schema.EventExecReport)
	const bound = 16
	s.mu.Lock()
	s.gapBound = bound
	s.mu.Unlock()
	streams := 5000
	if raceEnabled {
		streams = 1000
	}
	for i := range streams {
		publish(t, d, p, bin, "OPT-"+strconv.Itoa(i), schema.EventTrade, uint64(i+1))
	}
	st := s.Stats()
	assert.LessOrEqual(t, st.Markers, bound+1, "markers waiting: one per stream that lost an event, without end: %+v", st)
	assert.Equal(t, uint64(streams-1), st.Dropped, "%+v", st)
	in, out := balance(uint64(streams+1), st)
	assert.Equal(t, in, out, "%+v", st)
	// A stream whose loss only the marker of every symbol tells trades
	// again: the marker comes first.
	publish(t, d, p, bin, "OPT-100", schema.EventTrade, uint64(streams+1))
	r.open()
	closeDispatcher(t, d)
	got := r.got()
	var told, wide bool
	var lost uint64
	for _, ev := range got {
		if ev.Type == schema.EventGap {
			lost += ev.Control.GapCount
			require.Equal(t, schema.EventTrade, ev.Control.GapType)
			require.Equal(t, schema.GapSubscriberQueue, ev.Control.GapSource)
			if ev.Symbol == "" || ev.Symbol == "OPT-100" {
				told, wide = true, wide || ev.Symbol == ""
			}
			continue
		}
		if ev.Symbol == "OPT-100" {
			require.True(t, told, "OPT-100 went on before the subscriber heard it lost a trade")
		}
	}
	require.True(t, wide, "no marker about every symbol: the bound was never reached")
	assert.Equal(t, uint64(streams), lost, "every trade dropped is counted in a marker")
	st = s.Stats()
	in, out = balance(uint64(streams+2), st)
	assert.Equal(t, in, out, "%+v", st)
}
