package natsbridge

import (
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
