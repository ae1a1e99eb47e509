package normalize

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Advanced Trade sequence_num counts a connection's messages from 0: the
// first message of a connection (its subscriptions ack, its level2
// snapshot, a heartbeat: the venue's samples all carry "sequence_num":0)
// is 0. Uncounted, a 0 left the connection's count unknown, so the loss
// of message 1 — the first update after the snapshot — went unseen: the
// book applied snapshot and update 2 without it (Coinbase sends no
// checksum), a stale book. A 0 starts the connection's count, whatever
// came before on the same connection id (a new connection handed to a
// parser without its own id), so it never reads as a repeat either.
func TestCoinbaseSequenceStartsAtZero(t *testing.T) {
	frame, gaps := cbL2Frame, gapsOf
	ctx := context.Background()
	t.Run("message 1 lost", func(t *testing.T) {
		events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
		sink := &recSink{events: events}
		p := NewCoinbase(events, sink, nil)
		require.NoError(t, p.HandleBytes(ctx, frame(0, "snapshot", "100"), 1))
		require.NoError(t, p.HandleBytes(ctx, frame(2, "update", "101"), 2))
		g := gaps(sink)
		require.Len(t, g, 1, "the update lost after the snapshot went unseen")
		assert.Equal(t, uint64(1), g[0].Control.GapFirstSeq)
		assert.Equal(t, uint64(1), g[0].Control.GapLastSeq)
		assert.Zero(t, events.Stats().InUse)
	})
	t.Run("a new connection on the same id", func(t *testing.T) {
		events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
		sink := &recSink{events: events}
		p := NewCoinbase(events, sink, nil)
		for i, typ := range []string{"snapshot", "update", "update"} {
			require.NoError(t, p.HandleBytes(ctx, frame(i, typ, "100"), int64(i+1)))
		}
		n := len(sink.got)
		require.NoError(t, p.HandleBytes(ctx, frame(0, "snapshot", "100"), 10))
		require.NoError(t, p.HandleBytes(ctx, frame(1, "update", "101"), 11))
		// The old connection's tail may be lost: one connection-wide
		// marker (TestCoinbaseRestartOnSameConnIsGap), then both messages.
		require.Len(t, sink.got, n+3, "the new connection's messages were dropped as repeats")
		assert.Len(t, gaps(sink), 1)
		assert.Zero(t, events.Stats().InUse)
	})
}

// cbL2Frame is an Advanced Trade l2_data frame of one BTC-USD bid.
func cbL2Frame(seq int, typ, price string) []byte {
	return fmt.Appendf(nil, `{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":%d,"events":[{"type":"%s","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"2023-02-09T20:32:50.714964Z","price_level":"%s","new_quantity":"1"}]}]}`, seq, typ, price)
}

// gapsOf returns the gap markers s received.
func gapsOf(s *recSink) (out []*schema.CanonicalEvent) {
	for _, ev := range s.got {
		if ev.Type == schema.EventGap {
			out = append(out, ev)
		}
	}
	return out
}
