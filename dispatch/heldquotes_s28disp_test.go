package dispatch

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS28HeldSubscriberQuotesBounded: a subscriber held still (a handler
// stuck) while new coalescable streams keep coming (options listed by the
// thousand) queued one quote per stream, without end: the lane's "one per
// stream" is no bound when the streams are not. Past quoteBound queued
// quotes the oldest queued one goes, and the subscriber is told: one gap
// marker per venue and type (Symbol "", GapType the type, GapSource
// GapSubscriberQueue, GapCount the quotes dropped), on the critical lane,
// so ahead of any later quote of those streams — a quote it never gets is
// announced, never silently stale. The marker waits merged, one per
// (venue, type) however many drops. Every quote delivered is its
// stream's latest.
func TestS28HeldSubscriberQuotesBounded(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{}, schema.EventTrade)
	const bound, streams = 256, 1000
	s.mu.Lock()
	s.quoteBound = bound
	s.mu.Unlock()
	for round := range 2 {
		for i := range streams {
			for _, v := range []schema.Venue{bin, okx} {
				publish(t, d, p, v, "OPT-"+strconv.Itoa(i), schema.EventBBO, uint64(round*streams+i+1))
			}
		}
	}
	st := s.Stats()
	require.LessOrEqual(t, st.Coalescing, bound, "queued quotes past the bound")
	// s29: a marker per stream, maxStaleStreams of them, then one per
	// (venue, type) naming no symbol.
	markers := maxStaleStreams + 2
	require.Equal(t, markers, st.Critical, "markers waiting: one per stream up to maxStaleStreams, then one per (venue, type)")
	r.open()
	closeDispatcher(t, d)
	got := r.got()[1:] // the trade it was held on first
	require.GreaterOrEqual(t, len(got), markers)
	dropped := map[schema.Venue]uint64{}
	for i, ev := range got[:markers] {
		require.Equal(t, schema.EventGap, ev.Type)
		require.Equal(t, schema.ControlGap, ev.Control.Kind)
		require.Equal(t, schema.EventBBO, ev.Control.GapType)
		require.Equal(t, schema.GapSubscriberQueue, ev.Control.GapSource)
		require.Equal(t, i < maxStaleStreams, ev.Symbol != "", "marker %d", i)
		dropped[ev.Venue] += ev.Control.GapCount
	}
	quotes := got[markers:]
	require.Len(t, quotes, st.Coalescing)
	for _, ev := range quotes {
		require.Equal(t, schema.EventBBO, ev.Type)
		i, err := strconv.Atoi(ev.Symbol[len("OPT-"):])
		require.NoError(t, err)
		require.Equal(t, uint64(streams+i+1), ev.SeqProvider, "a quote not its stream's latest")
	}
	// Every quote queued is delivered or counted in its venue's marker:
	// no stream quoted again while its quote was still queued (2,000
	// streams in between, 256 queued), so every quote was queued anew.
	require.Equal(t, uint64(2*2*streams), uint64(len(quotes))+dropped[bin]+dropped[okx])
	require.Equal(t, dropped[bin]+dropped[okx], st.Coalesced)
}
