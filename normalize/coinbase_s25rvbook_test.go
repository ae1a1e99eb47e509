package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Advanced Trade sequence_num counts one connection's messages from 0. A
// 0 where the parser had counted past it is a new connection handed over
// under the same id (HandleBytes' 0, a host's own socket): the parser
// never saw the old one end, so whatever it sent after the last number
// seen may be lost — no checksum would tell. It is a connection-wide gap
// marker (every book the old connection fed is suspect), after which the
// new connection's count runs on: its messages are neither repeats nor
// gaps. A connection's first 0, or a 0 repeated before any other number,
// is no gap.
func TestCoinbaseRestartOnSameConnIsGap(t *testing.T) {
	frame, gaps := cbL2Frame, gapsOf
	ctx := context.Background()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewCoinbase(events, sink, nil)
	require.NoError(t, p.HandleBytes(ctx, frame(0, "snapshot", "100"), 1))
	require.NoError(t, p.HandleBytes(ctx, frame(0, "snapshot", "100"), 2)) // a second 0 before any other: no gap
	require.Empty(t, gaps(sink))
	for i, typ := range []string{"update", "update"} {
		require.NoError(t, p.HandleBytes(ctx, frame(i+1, typ, "100"), int64(i+3)))
	}
	require.Empty(t, gaps(sink))
	n := len(sink.got)
	// The old connection's 3, 4 … never came; a new one starts at 0.
	require.NoError(t, p.HandleBytes(ctx, frame(0, "snapshot", "99"), 10))
	g := gaps(sink)
	require.Len(t, g, 1, "a restart of the count on the same connection went unseen")
	assert.Empty(t, g[0].Symbol, "a connection-wide marker")
	assert.Equal(t, schema.EventUnknown, g[0].Control.GapType)
	assert.Equal(t, uint64(3), g[0].Control.GapFirstSeq)
	require.NoError(t, p.HandleBytes(ctx, frame(1, "update", "101"), 11))
	require.Len(t, gaps(sink), 1, "the new connection's count did not run on")
	require.Len(t, sink.got, n+3, "the new connection's messages were dropped")
	// The marker comes before the new connection's snapshot.
	assert.Equal(t, schema.EventGap, sink.got[n].Type)
	assert.Equal(t, schema.EventBookSnapshot, sink.got[n+1].Type)
	assert.Zero(t, events.Stats().InUse)
}
