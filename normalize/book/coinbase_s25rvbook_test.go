package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A Coinbase Advanced Trade connection replaced under the same id
// (HandleBytes' 0) without the books being told: its last updates may be
// lost, so the new connection's first message (sequence_num 0) marks
// every book invalid — the levels the old connection left must not serve
// as live — and the new connection's level2 snapshot, which follows the
// marker, makes each book live again with its levels only.
func TestCoinbaseRestartedConnectionResyncsBooks(t *testing.T) {
	resubs := 0
	p, bks := cbBooks(t, &Options{Resubscribe: func(context.Context, schema.Venue, string) error { resubs++; return nil }})
	frame, ev := cbL2Frame, cbL2Event
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, frame(0, ev("snapshot", "BTC-USD", "bid", "100")+","+ev("snapshot", "ETH-USD", "bid", "10")), 1))
	require.NoError(t, p.HandleBytes(ctx, frame(1, ev("update", "BTC-USD", "offer", "101")), 2))
	require.True(t, bks[0].Live())
	require.True(t, bks[1].Live())
	// A new connection: its 0 is the BTC-USD snapshot only.
	require.NoError(t, p.HandleBytes(ctx, frame(0, ev("snapshot", "BTC-USD", "bid", "99")), 3))
	require.True(t, bks[0].Live(), "the new connection's snapshot came after the marker")
	requireTop(t, bks[0], [][2]string{{"99", "1"}}, nil)
	var top schema.CanonicalEvent
	bks[0].Top(0, &top)
	require.Empty(t, top.Book.Asks, "a level of the old connection survived its snapshot")
	require.False(t, bks[1].Live(), "a book the old connection fed stayed live past the restart")
	require.Equal(t, uint64(1), bks[1].Stats().Invalidations)
	require.Equal(t, 2, resubs, "each book asks once for the snapshot it lost")
}
