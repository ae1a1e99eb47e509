package meltica_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
)

// Coinbase Advanced Trade "WebSocket Overview → Sequence Numbers":
// sequence_num counts every message of a connection, whatever its
// product; a jump means a message was lost, and nothing says of which
// product. So the jump must stop every book of the connection (book doc:
// a gap marker without a symbol "invalidates every book of the venue fed
// through Books"), not only the product of the message after it; each
// book is live again only on its own product's snapshot — ETH's not on
// BTC's.
func TestS34ctCoinbaseGapStopsEveryProductsBook(t *testing.T) {
	w := newS31ctWireBook(t, book.Coinbase, "BTC-USD", func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewCoinbase(p.Events, s, nil)
	})
	eth, err := book.NewBook(book.Coinbase, "ETH-USD", &book.Options{Sink: w.sink, Events: w.pools.Events})
	require.NoError(t, err)
	w.books.Add(eth)
	l2 := func(seq int, typ, product, updates string) string {
		return fmt.Sprintf(`{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":%d,"events":[{"type":%q,"product_id":%q,"updates":[%s]}]}`, seq, typ, product, updates)
	}
	u := func(side, px, qty string) string {
		return fmt.Sprintf(`{"side":%q,"event_time":"2023-02-09T20:32:50.714964855Z","price_level":%q,"new_quantity":%q}`, side, px, qty)
	}
	require.NoError(t, w.feed(l2(0, "snapshot", "BTC-USD", u("bid", "100.00", "1")+","+u("offer", "101.00", "3"))))
	require.NoError(t, w.feed(l2(1, "snapshot", "ETH-USD", u("bid", "10.00", "1")+","+u("offer", "10.10", "3"))))
	require.NoError(t, w.feed(l2(2, "update", "ETH-USD", u("bid", "10.05", "2"))))
	require.True(t, w.b.Live())
	require.True(t, eth.Live())
	bid, ok := eth.BBO()
	require.True(t, ok)
	require.Equal(t, "10.05", bid.BidPrice.String())

	// sequence_num 3 lost — it may have been ETH's; the next is BTC's.
	_ = w.feed(l2(4, "update", "BTC-USD", u("offer", "101.50", "5")))
	assert.False(t, w.b.Live(), "BTC's book stops")
	assert.False(t, eth.Live(), "ETH's book stops too: the lost message may have been its")
	_, ok = eth.BBO()
	assert.False(t, ok, "ETH serves nothing")

	require.NoError(t, w.feed(l2(5, "snapshot", "BTC-USD", u("bid", "100.00", "1")+","+u("offer", "101.00", "3"))))
	assert.True(t, w.b.Live(), "BTC live on its snapshot")
	assert.False(t, eth.Live(), "ETH not live on BTC's snapshot")
	require.NoError(t, w.feed(l2(6, "snapshot", "ETH-USD", u("bid", "10.00", "1")+","+u("offer", "10.10", "3"))))
	assert.True(t, eth.Live(), "ETH live on its own")
	bid, ok = eth.BBO()
	require.True(t, ok)
	assert.Equal(t, "10.00", bid.BidPrice.String(), "the snapshot's levels alone")
}
