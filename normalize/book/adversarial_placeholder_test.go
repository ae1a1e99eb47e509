package book

import (
	"context"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"
)

// OKX placeholders through the real parser, in every position: the
// snapshot's prevSeqId -1 and checksum 0, diffs with checksum 0, without
// the field, a keep-alive with empty sides and checksum 0, then a real
// checksum (OKX "Order book channel": CRC32 of bid:ask interleaved,
// as a signed 32-bit integer) — only that one is verified, and a wrong
// one still breaks the book.
func TestAdversarialOKXPlaceholders(t *testing.T) {
	msg := func(action string, prev int64, seq uint64, bids, asks, tail string) []byte {
		return okxRaw("books", action, prev, seq, bids, asks, tail)
	}
	bk, sink, _ := newRecBook(t, OKX, "BTC-USDT", nil)
	ctx := context.Background()
	apply := func(b []byte) { t.Helper(); applyLive(t, bk, b) }
	apply(msg("snapshot", -1, 500, `["100","1","0","1"]`, `["101","1","0","1"]`, `,"checksum":0`))
	apply(msg("update", 500, 507, `["99","2","0","1"]`, ``, `,"checksum":0`))
	apply(msg("update", 507, 507, ``, ``, `,"checksum":0`))       // keep-alive
	apply(msg("update", 507, 509, ``, `["102","3","0","1"]`, ``)) // no checksum field
	apply(msg("update", 509, 509, ``, ``, ``))                    // keep-alive without one
	sum := int32(crc32.ChecksumIEEE([]byte("100:4:101:1:99:2:102:3")))
	apply(msg("update", 509, 512, `["100","4","0","1"]`, ``, fmt.Sprintf(`,"checksum":%d`, sum)))
	st := bk.Stats()
	require.Equal(t, uint64(1), st.Checksums, "only the real checksum is verified")
	require.Zero(t, st.ChecksumErrors)
	require.Zero(t, st.Stale)
	require.Zero(t, st.Gaps)
	requireTop(t, bk, [][2]string{{"100", "4"}, {"99", "2"}}, [][2]string{{"101", "1"}, {"102", "3"}})

	require.NoError(t, bk.Apply(ctx, okxEvent(t, msg("update", 512, 512, ``, ``, fmt.Sprintf(`,"checksum":%d`, sum+1)))))
	require.False(t, bk.Live(), "a keep-alive with a wrong checksum")
	requireMarker(t, sink, 1, ReasonChecksum)
}
