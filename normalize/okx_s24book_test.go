package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// OKX bbo-tbt pushes the best bid and ask as one-level sides (OKX v5
// "Order book channel"); a side with no order is []. The best bid/offer
// is then none on that side (zero price and quantity, as a book publishes
// a side that emptied), not a message dropped: dropped, the subscriber's
// latest best bid/offer would stay the gone quote, coalesced as the
// latest.
func TestOKXBBOOneSided(t *testing.T) {
	for _, c := range []struct {
		name, bids, asks string
		bid, ask         string
	}{
		{"no bids", `[]`, `[["101.5","2","0","1"]]`, "0", "101.5"},
		{"no asks", `[["100.5","3","0","2"]]`, `[]`, "100.5", "0"},
		{"empty book", `[]`, `[]`, "0", "0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := `{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":` + c.asks + `,"bids":` + c.bids + `,"ts":"1700000000000","seqId":7}]}`
			sink, events, err := handleOne(t, "okx", msg)
			require.NoError(t, err)
			require.Len(t, sink.got, 1)
			ev := sink.got[0]
			require.Equal(t, schema.EventBBO, ev.Type)
			assert.Equal(t, "BTC-USDT", ev.Symbol)
			assert.Zero(t, ev.BBO.BidPrice.Cmp(schema.MustParseDecimal(c.bid)), "bid %s", ev.BBO.BidPrice)
			assert.Zero(t, ev.BBO.AskPrice.Cmp(schema.MustParseDecimal(c.ask)), "ask %s", ev.BBO.AskPrice)
			if c.bid == "0" {
				assert.True(t, ev.BBO.BidQty.IsZero())
			}
			if c.ask == "0" {
				assert.True(t, ev.BBO.AskQty.IsZero())
			}
			assert.Empty(t, ev.Book.Bids)
			assert.Empty(t, ev.Book.Asks)
			assert.Zero(t, events.Stats().InUse)
		})
	}
}
