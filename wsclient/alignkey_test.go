package wsclient

import (
	"bytes"
	"testing"

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
	rotateUnderTraffic(t, h, v, hb, ks, rotations)
	require.Positive(t, beats)
	st := h.c.Stats()
	require.EqualValues(t, rotations, st.Rotations)
	require.Zero(t, st.Unaligned, "every rotation aligned on the keys")
}
