package wsclient

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// connStamped is the AlignKey of the hub's per-connection frames: the
// frame less its ,"conn":n stamp (as Kraken v1's channelID), nil for the
// heartbeats, which mark no place in the stream.
func connStamped(b []byte) []byte {
	if bytes.HasPrefix(b, []byte(`{"hb"`)) {
		return nil
	}
	if i := bytes.Index(b, []byte(`,"conn":`)); i >= 0 {
		return b[:i]
	}
	return b
}

// A venue that stamps each connection into its frames, and sends
// heartbeats identical on every connection at places of its own, is
// aligned on the frames' keys (Options.AlignKey) and never on a
// heartbeat: across four rotations, the new stream 30 messages behind the
// old one and then ahead of it, every message exactly once, in order, and
// every rotation aligned.
func TestRotationAlignKey(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	hb := newHub(true)
	hb.heartbeat = 7
	v := newVenue(t, hb.serve(func(n int) int { return 30 * (1 - n%2) }))
	go hb.run()
	ks := &seqSink{conns: map[uint64]int{}}
	beats := 0
	k := &sink{hook: func(f *schema.WsFrame) error {
		if bytes.Equal(f.Data, []byte(`{"hb":1}`)) {
			beats++ // the handler runs on one goroutine at a time
			return nil
		}
		return ks.hook(f)
	}}
	opts := rotationOptions()
	opts.AlignKey = connStamped
	h := start(t, v.url(), opts, k, leaks)

	const rotations = 4
	t0 := newFakeClock().Now()
	for r := 1; r <= rotations; r++ {
		from := ks.count()
		require.Eventually(t, func() bool { return ks.count() > from+50 }, wait, time.Millisecond, "connection %d delivers", r)
		due := t0.Add(time.Duration(r) * opts.MaxAge)
		require.Eventually(t, func() bool { return h.clock.armedAt(due) }, wait, time.Millisecond, "rotation %d armed", r)
		h.clock.advanceTo(due)
		require.Eventually(t, func() bool { return h.c.Stats().Rotations == uint64(r) }, wait, time.Millisecond,
			"rotation %d; events %v", r, h.rec.all())
	}
	from := ks.count()
	require.Eventually(t, func() bool { return ks.count() > from+50 }, wait, time.Millisecond)
	last := hb.halt()
	require.Eventually(t, func() bool { return ks.last() >= int(last)-30 }, wait, time.Millisecond)

	h.finish(v)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	for i := 1; i < len(ks.seqs); i++ {
		require.Equal(t, ks.seqs[i-1]+1, ks.seqs[i], "message %d after %d: repeated or missed across a rotation", ks.seqs[i], ks.seqs[i-1])
	}
	require.Positive(t, beats)
	st := h.c.Stats()
	require.EqualValues(t, rotations, st.Rotations)
	require.Zero(t, st.Unaligned, "every rotation aligned on the keys")
}
