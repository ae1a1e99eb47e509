package book

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
)

// A book whose best bid reaches its best ask after a diff — crossed, or
// locked at one price — is wrong on every venue (a venue's matching
// engine leaves neither), and where the venue sends no checksum (Binance,
// Bybit, Coinbase, OKX since it sends "checksum":0) nothing else would
// tell: the book would stay live and stale (sammchardy/python-binance#615
// "DepthCache. Sometimes crossing ask and bid"; codez0mb1e/BinanceBot#9
// "Bid Higher than Ask"). It invalidates with ReasonCrossed, counts it in
// Stats.Crossed, and resyncs.
func TestCrossedOrLockedResyncsCounted(t *testing.T) {
	t.Run("binance locked", func(t *testing.T) {
		snaps := &binanceSnapshots{bodies: []string{
			`{"lastUpdateId":105,"bids":[["100.00","1.0"]],"asks":[["101.00","1.0"],["102.00","1.0"]]}`,
			`{"lastUpdateId":110,"bids":[["100.00","1.0"]],"asks":[["101.00","1.0"],["102.00","1.0"]]}`,
		}}
		x := newPipe(t, normalize.NewBinance, Binance, "BTC-USDT", &Options{Fetcher: wholeFetch{snaps}})
		x.feed(t, binanceDiff("BTCUSDT", 104, 106, -1, [][2]string{{"99.00", "1.0"}}, nil))
		require.True(t, x.b.Live())
		x.feed(t, binanceDiff("BTCUSDT", 107, 107, -1, [][2]string{{"101.00", "0.5"}}, nil))
		require.False(t, x.b.Live(), "a locked book stayed live")
		m := x.markers()
		require.Len(t, m, 1)
		require.Equal(t, ReasonCrossed, m[0].Control.Reason)
		require.Equal(t, uint64(1), x.b.Stats().Crossed)
	})
	t.Run("bybit crossed", func(t *testing.T) {
		x := newPipe(t, normalize.NewBybit, Bybit, "BTC-USDT", nil)
		x.feed(t,
			bybitBook("snapshot", "BTCUSDT", 50, 500, 9000, [][2]string{{"100.0", "1"}}, [][2]string{{"101.0", "1"}}),
			bybitBook("delta", "BTCUSDT", 50, 501, 9001, nil, [][2]string{{"99.5", "1"}}),
		)
		require.False(t, x.b.Live(), "a crossed book stayed live")
		require.Equal(t, uint64(1), x.b.Stats().Crossed)
		require.Equal(t, 1, x.resubs)
		m := x.markers()
		require.Len(t, m, 1)
		require.Equal(t, ReasonCrossed, m[0].Control.Reason)
	})
	t.Run("okx checksum 0", func(t *testing.T) {
		x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", nil)
		x.feed(t,
			okxBook("snapshot", "BTC-USDT", [][2]string{{"100.0", "1"}}, [][2]string{{"101.0", "1"}}, 0, -1, 10),
			okxBook("update", "BTC-USDT", [][2]string{{"101.0", "1"}}, nil, 0, 10, 11),
		)
		require.False(t, x.b.Live(), "a locked book stayed live")
		require.Equal(t, uint64(1), x.b.Stats().Crossed)
	})
}

// wholeFetch says its snapshots are whole books, so a test's small
// snapshots keep their top in range.
type wholeFetch struct{ Fetcher }

func (wholeFetch) SnapshotDepth() int { return 1 << 30 }
