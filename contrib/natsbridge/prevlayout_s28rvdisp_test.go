package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// bridged is one message a Publisher sent: its event, bridge sequence and
// run.
type bridged struct {
	ev  schema.CanonicalEvent
	seq uint64
	run uint32
}

// publishBridged publishes n events through a Publisher of opts (fill
// sets the i-th) and returns the n messages it sent, in order.
func publishBridged(t *testing.T, opts *PublisherOptions, n int, fill func(i int, ev *schema.CanonicalEvent)) []bridged {
	t.Helper()
	srv := startServer(t)
	nc := connect(t, srv.ClientURL(), nil)
	sub, err := nc.SubscribeSync(DefaultPrefix + ".>")
	require.NoError(t, err)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), nc, ingest.d, opts)
	require.NoError(t, err)
	for i := range n {
		ingest.publish(t, func(ev *schema.CanonicalEvent) { fill(i, ev) })
	}
	out := make([]bridged, n)
	for i := range out {
		m, err := sub.NextMsg(generous)
		require.NoError(t, err)
		out[i].seq, out[i].run, err = new(wire.Decoder).DecodeRun(m.Data, &out[i].ev)
		require.NoError(t, err)
	}
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	return out
}

// TestS28rvPrevLayoutNumbersPerStream: WireVersion 6 is written for
// Consumers older than 7, which check the bridge sequence per (venue,
// symbol, type), views together, and name no run. Numbered per view, two
// views of one stream interleaved can hide a loss from them: depth 50 at
// 5, its 6 lost, depth 200 at 6, depth 50 at 7 reads as 5, 6, 7 — no
// jump, no marker, a book diffed on a hole. So under layout 6 the
// Publisher numbers the stream as those Consumers count it (1..6 across
// both views); a Consumer of 8 checks a message of 6 per stream as well
// (TestS29ConsumerReadsLayout7NumberedPerStream).
func TestS28rvPrevLayoutNumbersPerStream(t *testing.T) {
	msgs := publishBridged(t, &PublisherOptions{WireVersion: 6}, 6, func(i int, ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBybit, "BTC-USDT", schema.EventBookUpdate
		ev.Book.Depth = []int{50, 200}[i%2]
		ev.SeqProvider = uint64(i)
	})
	var seqs []uint64
	for _, m := range msgs {
		seqs = append(seqs, m.seq)
	}
	require.Equal(t, []uint64{1, 2, 3, 4, 5, 6}, seqs, "layout 6 numbered per view: a Consumer older than 7 can miss a loss")
}
