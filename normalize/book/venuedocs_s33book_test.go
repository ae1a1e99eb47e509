package book

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// Binance "How to manage a local order book correctly": spot "If the
// event's U is greater than the snapshot's lastUpdateId + 1, you missed
// some events: discard the snapshot and get a new one"; USDⓈ-M "The first
// processed event should have U <= lastUpdateId AND u >= lastUpdateId".
// A snapshot older than the first diff buffered (lastUpdateId 1000, the
// diff 1005–1010) joins nothing: the book does not go live on it — the
// ids between are missing — and fetches again; the next snapshot
// (lastUpdateId 1007) joins the diff, and the book is live at its u, with
// the diff applied over it and nothing of the first snapshot left.
func TestS33BinanceSnapshotOlderThanTheFirstDiff(t *testing.T) {
	for _, tc := range []struct {
		name string
		path string
		diff []byte
	}{
		{"spot", BinanceSpotDepth, []byte(binanceDiff("BTCUSDT", 1005, 1010, -1, [][2]string{{"100.0", "5"}}, nil))},
		{"USDⓈ-M", BinanceUSDMDepth, futuresDiff(1005, 1010, 1004, "100.0", "5")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []uint64
			snaps := []string{
				`{"lastUpdateId":1000,"bids":[["99.0","1"]],"asks":[["101.0","1"]]}`,
				`{"lastUpdateId":1007,"bids":[["98.0","2"]],"asks":[["102.0","2"]]}`,
			}
			fetcher := FetcherFunc(func(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error {
				if len(seen) == len(snaps) {
					return fmt.Errorf("no more snapshots")
				}
				srv := newDepthServer(t, tc.path, snaps[len(seen)])
				err := (&BinanceREST{BaseURL: srv.srv.URL, Path: tc.path}).Fetch(ctx, symbol, dst)
				seen = append(seen, dst.Book.LastSeq)
				return err
			})
			b, _, events := newRecBook(t, Binance, "BTC-USDT", &Options{Fetcher: fetcher})
			books := NewBooks(nil, events, nil)
			books.Add(b)
			p := normalize.NewBinance(events, books, nil)
			require.NoError(t, p.HandleBytes(context.Background(), tc.diff, 1))
			require.Equal(t, []uint64{1000, 1007}, seen, "the older snapshot was not discarded for a new one")
			require.True(t, b.Live(), "%+v", b.Stats())
			require.Equal(t, uint64(1010), b.LastSeq())
			requireTop(t, b, [][2]string{{"100.0", "5"}, {"98.0", "2"}}, [][2]string{{"102.0", "2"}})
			var top schema.CanonicalEvent
			b.Top(0, &top)
			require.Len(t, top.Book.Bids, 2, "a level of the discarded snapshot survived")
			require.Len(t, top.Book.Asks, 1, "a level of the discarded snapshot survived")
		})
	}
}
