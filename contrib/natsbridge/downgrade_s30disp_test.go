package natsbridge

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// TestS30LayoutDowngradeMidStream: the documented rollback — a Publisher
// of layout 8 replaced by one of WireVersion 7 (for a Consumer older than
// 8 still in service) — numbers the views of a stream together in a run
// of its own, from 1. A Consumer that checked the stream per view under 8
// and first sees it under 7 at 3 lost the new run's 1 and 2: keyed by view
// under 8 and by stream under 7, the stream was new to the Consumer and
// the loss went unannounced (the mirror of TestS29rvLayoutSwitchMidStream,
// the upgrade, which announced it). With nothing lost (the first at 1) no
// marker is made.
func TestS30LayoutDowngradeMidStream(t *testing.T) {
	for _, first := range []uint64{1, 3} {
		v := newViewsBridge(t)
		send := func(depth int, id, seq uint64, run uint32, layout byte) {
			ev := diffOf(depth, id)
			v.raw.sendBytes(ev, wire.AppendVersion(nil, ev, seq, run, layout))
		}
		expect, got, cons, far := v.expect, v.got, v.cons, v.far
		for i := range uint64(4) {
			send([]int{50, 200}[i%2], 100+i, i/2+1, 9+uint32(i%2), wire.Version)
			expect([]int{50, 200}[i%2], 100+i)
		}
		// The Publisher is rolled back to layout 7: its run counts both
		// views together from 1; 1 .. first-1 are lost.
		send(50, 110, first, 20, wire.Version7)
		if first > 1 {
			g := next(t, got, anyMarket)
			require.Equal(t, schema.EventGap, g.Type, "the loss across the rollback not announced")
			require.Equal(t, first-1, g.Control.GapCount)
		}
		expect(50, 110)
		send(200, 111, first+1, 20, wire.Version7)
		expect(200, 111)
		require.Equal(t, min(first-1, 1), cons.Stats().Gaps, "markers of losses that did not happen")
		require.NoError(t, cons.Close(closeCtx(t)))
		far.close(t)
	}
}

// TestS30LayoutDowngradeFirstShelved: the same rollback, the layout-7
// Publisher's first message arriving while the event pool is exhausted
// (shelved: dropped, announced by the next). The shelved message sets
// where the stream starts; the new run's messages before it are lost too:
// all three (1, 2 and the shelved 3) are announced.
func TestS30LayoutDowngradeFirstShelved(t *testing.T) {
	far, got, cons, raw := starvedConsumer(t, schema.EventBookUpdate)
	far.release()
	send := func(depth int, id, seq uint64, run uint32, layout byte) {
		ev := diffOf(depth, id)
		raw.sendBytes(ev, wire.AppendVersion(nil, ev, seq, run, layout))
	}
	for i := range uint64(2) {
		send(50, 100+i, i+1, 9, wire.Version)
		require.Equal(t, 100+i, next(t, got, anyEvent).SeqProvider)
	}
	// The subscriber may get its clone before dispatch puts the original
	// back: Delivered counts after Publish returned, so after the Put
	// (else hold left that event free and the next message took it).
	eventually(t, func() bool { return cons.Stats().Delivered == 2 }, "delivered: %+v", cons.Stats())
	far.hold(0)
	send(200, 110, 3, 10, wire.Version7) // the rolled-back Publisher's 3rd: shelved
	eventually(t, func() bool { return cons.Stats().PoolDropped == 1 }, "shelved")
	far.release()
	send(50, 111, 4, 10, wire.Version7)
	g := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type, "the loss across the rollback not announced")
	require.Equal(t, uint64(3), g.Control.GapCount, "the new run's 1 and 2, and the shelved 3")
	require.Equal(t, uint64(111), next(t, got, anyEvent).SeqProvider)
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}
