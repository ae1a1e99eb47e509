package book

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A book message the venue sent but the parser had to drop (a malformed
// level) is a lost message. Venues whose next message cannot show the loss
// — Kraken (no ids; its checksum covers the top 10 only) and Coinbase
// (sequence_num counts frames, checked before the frame's events are
// decoded; no checksum at all) — would otherwise keep a stale book live
// for good: the dropped message is marked where it is dropped, the book
// goes invalid with one gap marker and resynchronises; the parser still
// returns its *ParseError.
func TestDroppedBookMessageInvalidates(t *testing.T) {
	const cbSnap = `{"channel":"l2_data","timestamp":"2026-03-05T09:05:32.483569449Z","sequence_num":1,"events":[{"type":"snapshot","product_id":"BTC-USDT","updates":[{"side":"bid","event_time":"2026-03-05T09:05:32.449176Z","price_level":"100","new_quantity":"1"},{"side":"offer","event_time":"2026-03-05T09:05:32.449176Z","price_level":"101","new_quantity":"1"}]}]}`
	const krV1Snap = `[1,{"as":[["101.0","1.0","1.1"]],"bs":[["100.0","1.0","1.1"],["99.0","1.0","1.1"]]},"book-10","BTC/USDT"]`
	const krV2Snap = `{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USDT","bids":[{"price":100.0,"qty":1.0}],"asks":[{"price":101.0,"qty":1.0}],"checksum":0}]}`
	tests := []struct {
		name      string
		rule      Rule
		newParser func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser
		snap, bad string
	}{
		{"coinbase negative quantity", Coinbase, normalize.NewCoinbase, cbSnap,
			`{"channel":"l2_data","timestamp":"2026-03-05T09:05:32.5Z","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USDT","updates":[{"side":"bid","event_time":"2026-03-05T09:05:32.449176Z","price_level":"100","new_quantity":"0"},{"side":"bid","event_time":"2026-03-05T09:05:32.449176Z","price_level":"99","new_quantity":"-2"}]}]}`},
		{"coinbase bad side", Coinbase, normalize.NewCoinbase, cbSnap,
			`{"channel":"l2_data","timestamp":"2026-03-05T09:05:32.5Z","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USDT","updates":[{"side":"sideways","event_time":"2026-03-05T09:05:32.449176Z","price_level":"100","new_quantity":"0"}]}]}`},
		{"kraken v1 bad quantity", KrakenV1, normalize.NewKraken, krV1Snap,
			`[1,{"b":[["100.0","0.0","1.2"],["98.0","x","1.2"]],"c":"1"},"book-10","BTC/USDT"]`},
		{"kraken v2 bad price", KrakenV2, normalize.NewKraken, krV2Snap,
			`{"channel":"book","type":"update","data":[{"symbol":"BTC/USDT","bids":[{"price":100.0,"qty":0},{"price":"1.2.3","qty":1}],"asks":[],"checksum":0,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			bk, sink, p := parsedBook(t, tt.rule, nil, tt.newParser)
			require.NoError(t, p.HandleBytes(ctx, []byte(tt.snap), 1))
			require.True(t, bk.Live())
			err := p.HandleBytes(ctx, []byte(tt.bad), 2)
			var pe *normalize.ParseError
			require.True(t, errors.As(err, &pe), "a typed error: %v", err)
			require.False(t, bk.Live(), "the dropped message may have changed the book: not live")
			_, live := bk.BBO()
			require.False(t, live)
			gaps := sink.ofType(schema.EventGap)
			require.Len(t, gaps, 1, "one marker, from the book")
			require.Equal(t, "BTC-USDT", gaps[0].Symbol)
			require.Equal(t, uint64(1), p.Stats().Errors)
			// The venue's next snapshot makes it live again.
			resent := strings.Replace(tt.snap, `"sequence_num":1`, `"sequence_num":3`, 1)
			require.NoError(t, p.HandleBytes(ctx, []byte(resent), 3))
			require.True(t, bk.Live())
		})
	}
}
