package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// TestS34rvwireUpgrade8To9MidStream: the rolling upgrade the docs ask for
// — every Consumer to 9, then the Publisher from WireVersion 8 to 9. Both
// layouts number per view; the new Publisher starts each view at 1 in a
// run of its own. Checked per view across the switch: no marker without
// a loss (depth 200's new 1), a loss across the switch announced on its
// view (depth 50's new 1 and 2), and a loss under 8 announced on its view
// alone.
func TestS34rvwireUpgrade8To9MidStream(t *testing.T) {
	v := newViewsBridge(t)
	send := func(depth int, id, seq uint64, run uint32, layout byte) {
		ev := diffOf(depth, id)
		v.raw.sendBytes(ev, wire.AppendVersion(nil, ev, seq, run, layout))
	}
	expect, got, cons, far := v.expect, v.got, v.cons, v.far
	runOf := map[int]uint32{50: 9, 200: 10}
	for i := range uint64(4) {
		d := []int{50, 200}[i%2]
		send(d, 100+i, i/2+1, runOf[d], wire.Version8)
		expect(d, 100+i)
	}
	require.Zero(t, cons.Stats().Gaps, "layout 8 numbered per view read as losses")
	// Under 8, depth 200's 3 is lost: its 4 is announced, on depth 200.
	send(200, 105, 4, 10, wire.Version8)
	g := next(t, got, anyMarket)
	require.Equal(t, schema.EventGap, g.Type, "a loss under 8 not announced")
	require.Equal(t, uint64(1), g.Control.GapCount)
	require.Equal(t, 200, g.Book.Depth)
	expect(200, 105)
	// The Publisher restarts under 9: depth 200's 1 arrives, depth 50's 1
	// and 2 are lost, its 3 arrives.
	send(200, 106, 1, 11, wire.Version)
	expect(200, 106)
	require.Equal(t, uint64(1), cons.Stats().Gaps, "a marker of a loss that did not happen")
	send(50, 109, 3, 12, wire.Version)
	g = next(t, got, anyMarket)
	require.Equal(t, schema.EventGap, g.Type, "the loss across the switch not announced")
	require.Equal(t, uint64(2), g.Control.GapCount)
	require.Equal(t, 50, g.Book.Depth)
	expect(50, 109)
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}
