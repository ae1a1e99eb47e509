package natsbridge

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS35rvnatsQuoteKindsAtTheBound: the Publisher's quote kinds at
// exactly maxQuoteKinds forget none; the next forgets the least recently
// sent alone — not one touched since, nor the one just noted, whether its
// note took lostMu or only the comparison with the kind before — and a
// lost link tells exactly the kinds kept.
func TestS35rvnatsQuoteKindsAtTheBound(t *testing.T) {
	p := &Publisher{log: slog.New(slog.DiscardHandler)}
	kind := func(i int) streamKey {
		return streamKey{venue: schema.Venue(fmt.Sprintf("v%04d", i)), typ: schema.EventTicker}
	}
	note := func(i int) { k := kind(i); p.noteQuoteKind(k.venue, k.typ) }
	for i := range maxQuoteKinds {
		note(i)
		note(i) // the same kind again: the comparison alone
	}
	require.Equal(t, maxQuoteKinds, p.quoteKinds.len())
	require.Zero(t, p.kindsForgotten.load(), "at the bound, none forgotten")

	note(0) // the oldest, touched: now the most recent
	note(maxQuoteKinds)
	note(maxQuoteKinds) // the comparison alone
	require.Equal(t, uint64(1), p.kindsForgotten.load())
	note(1) // forgotten: noted again, it forgets kind 2
	require.Equal(t, uint64(2), p.kindsForgotten.load())
	require.Equal(t, maxQuoteKinds, p.quoteKinds.len())

	p.linkLost()
	require.Len(t, p.lostKinds, maxQuoteKinds)
	for _, i := range []int{0, 1, 3, maxQuoteKinds - 1, maxQuoteKinds} {
		require.Contains(t, p.lostKinds, kind(i), "kind %d told", i)
	}
	require.NotContains(t, p.lostKinds, kind(2), "the least recently sent forgotten")
}
