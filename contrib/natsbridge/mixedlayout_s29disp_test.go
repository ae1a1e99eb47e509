package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// TestS29ConsumerReadsLayout7NumberedPerStream: a Publisher of layout 7
// from before the numbering per view (dc02b3e) numbers the views of a
// stream together, one run for them all: depth 50 and depth 200 of one
// symbol interleaved are 1, 2, 3, ... across both. A Consumer checking
// every message per view saw 1, 3, 5 in each: a loss announced at every
// message that lost nothing. The layout says how a message is numbered
// (wire.Version 8: per view; 7 and 6: per stream), and the Consumer checks
// each message as its layout numbers it: no marker without a loss, and a
// real loss (a number skipped) still announced.
func TestS29ConsumerReadsLayout7NumberedPerStream(t *testing.T) {
	v := newViewsBridge(t)
	send := func(depth int, id, seq uint64) {
		ev := diffOf(depth, id)
		v.raw.sendBytes(ev, wire.AppendVersion(nil, ev, seq, 9, 7))
	}
	expect, got, cons, far := v.expect, v.got, v.cons, v.far
	for i := range uint64(6) {
		send([]int{50, 200}[i%2], 100+i, i+1)
		expect([]int{50, 200}[i%2], 100+i)
	}
	require.Zero(t, cons.Stats().Gaps, "markers of losses that did not happen")
	// The stream's 7th message is lost: the 8th is announced.
	send(50, 108, 8)
	g := next(t, got, anyMarket)
	require.Equal(t, schema.EventGap, g.Type, "a loss of layout 7 not announced")
	require.Equal(t, uint64(1), g.Control.GapCount)
	expect(50, 108)
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}

// TestS29PublisherLayout7NumbersPerStream: a Consumer of layout 7 from
// before the numbering per view checks the views of a stream together and
// refuses layout 8. A Publisher set to WireVersion 7 for it numbers them
// together (1..6 across both views, one run), as that Consumer counts:
// numbered per view it read 1, 1, 2, 2 as two runs taking turns — a
// restart at every message, each announced as a loss. The default layout
// (8) numbers them per view, and says so in its version byte.
func TestS29PublisherLayout7NumbersPerStream(t *testing.T) {
	fill := func(i int, ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBybit, "BTC-USDT", schema.EventBookUpdate
		ev.Book.Depth = []int{50, 200}[i%2]
		ev.SeqProvider = uint64(i)
	}
	msgs := publishBridged(t, &PublisherOptions{WireVersion: 7}, 6, fill)
	var seqs []uint64
	for _, m := range msgs {
		seqs = append(seqs, m.seq)
		require.Equal(t, msgs[0].run, m.run, "layout 7 gave the views runs of their own")
	}
	require.Equal(t, []uint64{1, 2, 3, 4, 5, 6}, seqs, "layout 7 numbered per view: its Consumers see restarts")

	msgs = publishBridged(t, nil, 4, fill)
	seqs = seqs[:0]
	for _, m := range msgs {
		seqs = append(seqs, m.seq)
	}
	require.Equal(t, []uint64{1, 1, 2, 2}, seqs, "the default layout numbers per view")
}
