package book

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A resubscription the venue accepted (Resubscribe returned nil) whose
// snapshot never came — lost, dropped as malformed, refused by an error
// event the book never sees — left the book waiting for it for good: the
// diffs kept coming, each dropped (Stats.Waiting), the book dark and
// asking nothing more until the connection dropped, silently
// (thrasher-corp/gocryptotrader#2366: "a pair whose first snapshot is
// rejected can't request a new one, so every later update errors until a
// full snapshot turns up unprompted or the connection is re-established";
// ccxt gives up on a snapshot after a timeout and asks again). A book
// whose snapshot has not come SnapshotWaits × RetryInterval after it
// asked asks again on the next diff, on its own clock, under its resync
// backoff.
func TestResubscribedSnapshotNeverComes(t *testing.T) {
	bids, asks := [][2]string{{"100", "1"}}, [][2]string{{"101", "1"}}
	for _, v := range []struct {
		name string
		newP func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser
		rule Rule
		snap func(seq int64) string
		diff func(seq int64) string
	}{
		{
			name: "okx", newP: normalize.NewOKX, rule: OKX,
			snap: func(seq int64) string { return okxBook("snapshot", "BTC-USDT", bids, asks, 0, -1, seq) },
			diff: func(seq int64) string {
				return okxBook("update", "BTC-USDT", [][2]string{{"100", "2"}}, nil, 0, seq-1, seq)
			},
		},
		{
			name: "bybit", newP: normalize.NewBybit, rule: Bybit,
			snap: func(seq int64) string { return bybitBook("snapshot", "BTCUSDT", 50, seq, seq, bids, asks) },
			diff: func(seq int64) string {
				return bybitBook("delta", "BTCUSDT", 50, seq, seq, [][2]string{{"100", "2"}}, nil)
			},
		},
	} {
		t.Run(v.name, func(t *testing.T) {
			x := newPipe(t, v.newP, v.rule, "BTC-USDT", &Options{RetryInterval: time.Second})
			clock := time.Unix(1_700_000_000, 0)
			x.b.now = func() time.Time { return clock }
			seq := int64(1000)
			x.feed(t, v.snap(seq))
			require.True(t, x.b.Live())
			seq += 2 // a push lost: a gap, and a resubscription
			x.feed(t, v.diff(seq))
			require.False(t, x.b.Live())
			require.Equal(t, 1, x.resubs)
			// The venue's snapshot never comes; its diffs do.
			for range 9 {
				clock = clock.Add(time.Second)
				seq++
				x.feed(t, v.diff(seq))
			}
			require.Equal(t, 1, x.resubs, "asked again before SnapshotWaits × RetryInterval")
			clock = clock.Add(time.Second)
			seq++
			x.feed(t, v.diff(seq))
			require.Equal(t, 2, x.resubs, "a snapshot that never came was never asked for again")
			require.False(t, x.b.Live())
			// This one comes: live again.
			seq++
			x.feed(t, v.snap(seq))
			require.True(t, x.b.Live())
			require.Equal(t, uint64(1), x.b.Stats().Invalidations)
		})
	}
}
