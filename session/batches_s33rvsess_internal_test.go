package session

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS33rvsessOKXSubscribeMessageWithin64KB: each OKX subscribe message,
// whole, is within 64 KB, and as full as that allows. OKX v5
// "WebSocket", "Subscribe": "the total length of multiple channels cannot
// exceed 64 KB" does not say whether the request's envelope
// ({"op":"subscribe","args":…}) counts; a message of at most 64 KB keeps
// the bound on either reading. Before, the args alone were bounded: a full
// batch's message was 64 KB and 26 bytes.
func TestS33rvsessOKXSubscribeMessageWithin64KB(t *testing.T) {
	spec := venues[schema.VenueOKX]
	for _, ch := range []string{"tickers", "books", "bbo-tbt"} {
		syms := make([]string, 4000)
		for i := range syms {
			syms[i] = fmt.Sprintf("S%04d-USDT-SWAP", i)
		}
		batches := spec.batches(ch, syms)
		require.Greater(t, len(batches), 1, ch)
		var asked []string
		for k, b := range batches {
			msg, err := spec.subscribe(ch, b)
			require.NoError(t, err)
			assert.LessOrEqual(t, len(msg), 64<<10, "%s batch %d: the message", ch, k)
			if k < len(batches)-1 {
				more, err := spec.subscribe(ch, append(slices.Clip(b), batches[k+1][0]))
				require.NoError(t, err)
				assert.Greater(t, len(more), 64<<10, "%s batch %d not full", ch, k)
			}
			asked = append(asked, b...)
		}
		require.Equal(t, syms, asked, ch)
	}
}
