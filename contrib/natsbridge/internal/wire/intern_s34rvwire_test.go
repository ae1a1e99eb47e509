package wire

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS34rvwireInternBoundsBytes: a Decoder interns the strings it reads
// (a ticker's Window since layout 9) in a table of at most maxIntern
// entries, but bounded only their number: a stream of distinct long
// windows (garbage, or a hostile publisher) kept maxIntern of them, each
// as long as a message may be — 4096 windows of a 1 MB max_payload held
// 4 GB for the Decoder's life. Only short strings (venues, symbols,
// intervals, windows: the ones that repeat) are interned: the table holds
// at most maxIntern × maxInternLen bytes, and a long string is still
// decoded whole.
func TestS34rvwireInternBoundsBytes(t *testing.T) {
	var d Decoder
	src := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTicker}
	src.UseTicker().Last = schema.NewDecimal(5, 1)
	pad := strings.Repeat("w", 1024)
	dst := pooledEvent(t)
	var buf []byte
	for i := range maxIntern + 8 {
		src.UseTicker().Window = strconv.Itoa(i) + pad
		buf = Append(buf[:0], src, uint64(i+1))
		dst.Reset()
		_, err := d.Decode(buf, dst)
		require.NoError(t, err)
		require.Equal(t, src.Ticker.Window, dst.Ticker.Window)
	}
	held := 0
	for k := range d.intern {
		held += len(k)
	}
	require.LessOrEqual(t, held, maxIntern*maxInternLen, "interned bytes past the bound")

	// Short strings are still interned: a window seen before costs nothing.
	src.UseTicker().Window = "1h"
	buf = Append(buf[:0], src, 1)
	_, err := d.Decode(buf, dst)
	require.NoError(t, err)
	require.Zero(t, testing.AllocsPerRun(100, func() {
		dst.Reset()
		if _, err := d.Decode(buf, dst); err != nil {
			t.Fatal(err)
		}
	}))
}
