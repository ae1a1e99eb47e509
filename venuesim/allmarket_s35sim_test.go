package venuesim

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/internal/allocs"
)

// s35simTraded gives every symbol of v a trade at ms, so that each is in
// the next all-market arrays.
func s35simTraded(v *Venue, ms int64) {
	m := v.mkt
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.symbols {
		s.day.add(ms, s.bestBid, one, s.day.last+1)
	}
}

// The all-market arrays formatted each element through the symbol
// stream's marshalled struct: ~17 allocations a symbol a push (1,000
// symbols subscribed: ~17,000 a second). They are formatted into reused
// buffers now: a push of every array, every symbol in it, allocates
// nothing but what the hand-out to connections costs (none here).
func TestS35simArraysFormatWithoutAllocating(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under the race detector")
	}
	v := s34rvsimStoppedVenue(t, 200)
	ms := v.now().UnixMilli()
	s35simTraded(v, ms)
	m := v.mkt
	m.mu.Lock()
	for i := range m.arrayRefs {
		m.arrayRefs[i] = 1 // listened to, by nobody connected: no hand-out
	}
	m.mu.Unlock()
	v.tickerArrays(ms) // the buffers grow once
	count := allocs.PerRun(20, func() {
		m.mu.Lock()
		for _, s := range m.symbols {
			s.arrayCount = 0 // every symbol traded since the last push
		}
		m.mu.Unlock()
		v.tickerArrays(ms)
	})
	assert.Zero(t, count, "a push of %d arrays of 200 symbols (their content: TestS34simAllMarketArrays, TestS35simWindowArrays)", len(allMarketStreams))
}
