package dispatch

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// A trade's 64 clones (64 × 376 bytes plus the allocator's 8-byte header
// of an object with pointers) fit the 24,576-byte size class: with the
// 440-byte event they took 28,672 bytes (session 47, #15).
func TestS47evSixtyFourTradeClonesFitTheSmallerSizeClass(t *testing.T) {
	src := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade, SeqProvider: 1}
	src.Trade.Price, src.Trade.Qty = schema.NewDecimal(6500012, 2), schema.NewDecimal(15, 3)
	const n, publishes = 64, 200
	live := make([]*schema.CanonicalEvent, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range publishes {
		cl := newClones(src, n)
		for j := range n {
			live[j] = cl.take()
		}
	}
	runtime.ReadMemStats(&after)
	perPublish := (after.TotalAlloc - before.TotalAlloc) / publishes
	assert.LessOrEqual(t, perPublish, uint64(25_000), "bytes per publish of 64 trade clones (24,576 expected; 28,672 with a 440-byte event)")
	assert.Equal(t, src.Trade, live[n-1].Trade)
}
