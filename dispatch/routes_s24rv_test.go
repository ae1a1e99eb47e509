package dispatch

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Review s24rv: the routes' generations must bound what the dispatcher
// learns of streams that went away, not tax the streams that stay. A host
// that follows more streams at once than one generation holds (a relay of
// every symbol of a few venues: Binance's ~2,400 spot and futures symbols
// with trades, book, best bid/offer and klines of several intervals each,
// OKX's, Deribit's options) publishes each of them again and again. With a
// generation of a fixed size each of those streams was learned again in
// every generation, under the index's lock, and the read map was rebuilt
// over and over: after the warm-up the hot path allocated and locked
// without end (DESIGN.md: no allocation, no lock on the ingest path in
// steady state). A stream that keeps publishing must keep its route.
func TestS24rvRoutesOfMoreLiveStreamsThanAGeneration(t *testing.T) {
	s := &Subscription{id: 1, m: compile(Filter{})}
	ix := newIndex([]*Subscription{s})
	// Under the race detector an eighth of the limits and of the streams
	// (raceFloor): still a quarter more streams than a generation of the
	// floor holds.
	floor := raceFloor(ix)
	keys := make([]routeKey, floor+floor/4)
	for i := range keys {
		keys[i] = routeKey{venue: schema.VenueBinance, symbol: "S-" + strconv.Itoa(i), typ: schema.EventTrade}
	}
	round := func() {
		for _, k := range keys {
			if r := ix.route(k); len(r) != 1 {
				panic("wrong route")
			}
		}
	}
	for range 4 { // warm-up: every stream learned
		round()
	}
	require.Zero(t, allocsPerRun(t, 3, round), "streams that keep publishing were learned again")
}
