package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// TestS34rvwireLayout8NumbersPerView: layout 8 numbers the bridge sequence
// per view and says so in its version byte (wire.PerView), so a Publisher
// of WireVersion 8 (for Consumers older than 9 during a rolling upgrade)
// must number per view too. When the current layout became 9, the
// Publisher numbered per view under 9 only: under 8 two depths of a book
// interleaved were 1, 2, 3, 4 across both, and every Consumer (checking
// layout 8 per view) read 1, 3 in each view — a loss announced at every
// message that lost nothing.
func TestS34rvwireLayout8NumbersPerView(t *testing.T) {
	fill := func(i int, ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBybit, "BTC-USDT", schema.EventBookUpdate
		ev.Book.Depth = []int{50, 200}[i%2]
		ev.SeqProvider = uint64(i)
	}
	msgs := publishBridged(t, &PublisherOptions{WireVersion: wire.Version8}, 4, fill)
	var seqs []uint64
	for _, m := range msgs {
		seqs = append(seqs, m.seq)
	}
	require.Equal(t, []uint64{1, 1, 2, 2}, seqs, "layout 8 says per view (wire.PerView) but was numbered per stream")
	require.NotEqual(t, msgs[0].run, msgs[1].run, "two views of layout 8 in one run")
}
