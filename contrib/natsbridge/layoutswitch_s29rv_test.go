package natsbridge

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// TestS29rvLayoutSwitchMidStream: a Publisher of layout 7 replaced by one
// of layout 8 (the upgrade the docs ask for: every Consumer first, then
// WireVersion 8) starts each view of a stream at 1 in a run of its own. A
// Consumer that checked the stream under 7 (views together) and first sees
// a view under 8 at 3 lost that view's 1 and 2: the run changed, as a
// restart under one layout tells it. Keyed by view under 8 and by stream
// under 7, the view was new to the Consumer and the loss went unannounced.
// With nothing lost (each view's first at 1) no marker is made.
func TestS29rvLayoutSwitchMidStream(t *testing.T) {
	v := newViewsBridge(t)
	send := func(depth int, id, seq uint64, run uint32, layout byte) {
		ev := diffOf(depth, id)
		v.raw.sendBytes(ev, wire.AppendVersion(nil, ev, seq, run, layout))
	}
	expect, got, cons, far := v.expect, v.got, v.cons, v.far
	for i := range uint64(4) {
		send([]int{50, 200}[i%2], 100+i, i+1, 9, wire.Version7)
		expect([]int{50, 200}[i%2], 100+i)
	}
	// The Publisher restarts under layout 8: depth 200's 1 arrives, depth
	// 50's 1 and 2 are lost, its 3 arrives.
	send(200, 104, 1, 10, wire.Version)
	expect(200, 104)
	require.Zero(t, cons.Stats().Gaps, "a marker of a loss that did not happen")
	send(50, 107, 3, 11, wire.Version)
	g := next(t, got, anyMarket)
	require.Equal(t, schema.EventGap, g.Type, "the loss across the layout switch not announced")
	require.Equal(t, uint64(2), g.Control.GapCount)
	require.Equal(t, 50, g.Book.Depth)
	expect(50, 107)
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}

// TestS29rvLayoutSwitchFirstShelved: the same switch, the new Publisher's
// first message of the view arriving while the event pool is exhausted
// (shelved: dropped, announced by the next). The shelved message set where
// the view starts as a stream first seen does, so the next announced it
// alone: the new run's messages before it (1, 2) went unannounced. All
// three are announced.
func TestS29rvLayoutSwitchFirstShelved(t *testing.T) {
	far, got, cons, raw := starvedConsumer(t, schema.EventBookUpdate)
	far.release()
	send := func(id, seq uint64, run uint32, layout byte) {
		ev := diffOf(50, id)
		raw.sendBytes(ev, wire.AppendVersion(nil, ev, seq, run, layout))
	}
	for i := range uint64(2) {
		send(100+i, i+1, 9, wire.Version7)
		require.Equal(t, 100+i, next(t, got, anyEvent).SeqProvider)
	}
	// The subscriber may get its clone before dispatch puts the original
	// back: Delivered counts after Publish returned, so after the Put
	// (else hold left that event free and the next message took it).
	eventually(t, func() bool { return cons.Stats().Delivered == 2 }, "delivered: %+v", cons.Stats())
	far.hold(0)
	send(110, 3, 10, wire.Version) // the new Publisher's 3rd: shelved
	eventually(t, func() bool { return cons.Stats().PoolDropped == 1 }, "shelved")
	far.release()
	send(111, 4, 10, wire.Version)
	g := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type)
	require.Equal(t, uint64(3), g.Control.GapCount, "the new run's 1 and 2, and the shelved 3")
	require.Equal(t, uint64(111), next(t, got, anyEvent).SeqProvider)
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}
