package venuesim

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/internal/allocs"
)

// The symbol tickers go out on the 1000 ms tick now (symbolTickers), with
// the arrays: formatted into the venue's reused buffer, every ticker kind
// of 200 symbols a tick costs no allocation (nobody connected: no
// hand-out).
func TestS36simSymbolTickersFormatWithoutAllocating(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under the race detector")
	}
	v := s34rvsimStoppedVenue(t, 200)
	ms := v.now().UnixMilli()
	s35simTraded(v, ms)
	m := v.mkt
	m.mu.Lock()
	for _, s := range m.symbols {
		for i := range s.tickerRefs {
			s.tickerRefs[i] = 1 // listened to, by nobody connected
		}
	}
	m.mu.Unlock()
	v.tickerArrays(ms) // the buffers grow once
	assert.Len(t, v.tickerPushes, 200*len(tickerKinds), "every kind of every symbol formatted")
	count := allocs.PerRun(20, func() {
		m.mu.Lock()
		for _, s := range m.symbols {
			s.tickerCount = 0 // every symbol traded since the last push
		}
		m.mu.Unlock()
		v.tickerArrays(ms)
	})
	assert.Zero(t, count, "a tick of %d ticker kinds of 200 symbols", len(tickerKinds))
}
