package normalize

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A book message the sink refused (book.Books.Publish returns the book's
// error: a diff it could not apply, its book invalidated and waiting for a
// snapshot) breaks the stream as a lost message does: a snapshot, even one
// older than the stream's position (a rotation's overlap), is then
// delivered, since it repairs the book. Failed before the fix: dropped as
// an older snapshot (Stats.Repeats), the book left without one.
func TestS29rvOlderBookSnapshotAfterSinkError(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	var got []uint64
	refuse := uint64(102)
	sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		defer events.Put(ev)
		if ev.Book.LastSeq == refuse {
			return errors.New("book: checksum mismatch")
		}
		got = append(got, ev.Book.LastSeq)
		return nil
	})
	for _, venue := range []schema.Venue{schema.VenueBybit, schema.VenueOKX} {
		t.Run(string(venue), func(t *testing.T) {
			got = got[:0]
			p := newVenueParser(venue, events, sink)
			ctx := context.Background()
			book := func(snap bool, u, prev, ms int) []byte {
				if venue == schema.VenueOKX {
					action := "update"
					if snap {
						action, prev = "snapshot", -1
					}
					return fmt.Appendf(nil, `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"%s","data":[{"asks":[["8476.98","415","0","13"]],"bids":[["8476.97","256","0","12"]],"ts":"%d","checksum":0,"seqId":%d,"prevSeqId":%d}]}`, action, ms, u, prev)
				}
				typ := "delta"
				if snap {
					typ = "snapshot"
				}
				return fmt.Appendf(nil, `{"topic":"orderbook.50.BTCUSDT","type":"%s","ts":%d,"data":{"s":"BTCUSDT","b":[["16493.60","0.006"]],"a":[["16494.00","1.2"]],"u":%d,"seq":1},"cts":%d}`, typ, ms, u, ms)
			}
			require.NoError(t, p.HandleBytes(ctx, book(true, 100, 0, 1000), 1))
			require.NoError(t, p.HandleBytes(ctx, book(false, 101, 100, 1001), 1))
			require.Error(t, p.HandleBytes(ctx, book(false, 102, 101, 1002), 1))
			require.NoError(t, p.HandleBytes(ctx, book(true, 101, 0, 1001), 1))
			require.Equal(t, []uint64{100, 101, 101}, got, "the snapshot that repairs the book was dropped")
			require.Zero(t, p.Stats().Repeats)
		})
	}
}
