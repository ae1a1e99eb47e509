package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS37slowWideGapMarkerResyncsEverySymbol: a gap marker that names no
// symbol (venue-wide: a subscriber's queue past its bound of waiting
// markers, dispatch's doc "Gap markers of a slow subscriber") says every
// symbol of its venue and type lost events; the drill's handler resyncs
// them all, and a marker of another venue or symbol resyncs none. Before,
// it only looked at markers with a sequence range and read the event after
// its handler had returned it to the pool.
func TestS37slowWideGapMarkerResyncsEverySymbol(t *testing.T) {
	var out bytes.Buffer
	gaps := make(chan gapSeen, 4)
	handle := gapHandler(&out, []string{"BTC-USDT", "ETH-USDT"}, gaps)

	marker := func(v schema.Venue, sym string, first, last uint64, src schema.GapSource) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Type: schema.EventGap, Venue: v, Symbol: sym, Control: &schema.Control{
			Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapSource: src, GapCount: 7,
			GapFirstSeq: first, GapLastSeq: last}}
	}
	handle(marker(schema.VenueBinance, "", 0, 0, schema.GapSubscriberQueue))
	require.Len(t, gaps, 1)
	assert.Equal(t, gapSeen{resync: []string{"BTC-USDT", "ETH-USDT"}}, <-gaps)
	assert.Equal(t, "  gap marker: every symbol of binance book_update (subscriber_queue); resync BTC-USDT ETH-USDT\n", out.String())

	out.Reset()
	handle(marker(schema.VenueBinance, "ETH-USDT", 10, 16, schema.GapVenue))
	require.Len(t, gaps, 1)
	assert.Equal(t, gapSeen{resync: []string{"ETH-USDT"}, first: 10, last: 16}, <-gaps)
	assert.Equal(t, "  gap marker: ETH-USDT book_update, update ids 10..16 missing (venue); resync ETH-USDT\n", out.String())

	out.Reset()
	handle(marker(schema.VenueOKX, "", 0, 0, schema.GapVenue))
	handle(marker(schema.VenueBinance, "SOL-USDT", 0, 0, schema.GapVenue))
	handle(&schema.CanonicalEvent{Type: schema.EventTrade, Venue: schema.VenueBinance, Symbol: "BTC-USDT"})
	assert.Empty(t, gaps, "another venue, a symbol not subscribed, not a marker: nothing to resync")
	assert.Empty(t, out.String())
}
