package wsclient

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A venue that sends a large message now and then (a full order-book
// snapshot at every connection: Coinbase's level2 snapshot is the whole
// book, megabytes; BitMEX's orderBookL2 "partial" likewise) grows the
// reader's frame to that size, which is right while the connection lives.
// But the frame went back to the pool at that size, and the pool keeps
// capacity: over reconnects every frame of the pool (200 by default) came
// to hold megabytes that nothing needed, memory that is never given back.
// A frame larger than maxKeptFrame goes back to the pool with a buffer of
// the default size instead.
func TestLargeMessageFrameNotKeptLarge(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	big := `{"snapshot":"` + strings.Repeat("b", 2<<20) + `"}`
	p := newRawPeer(t, func(pc *peerConn) {
		pc.readClient()
		if pc.expectSubs() != nil {
			return
		}
		_ = pc.write(text(big))
		if pc.n == 1 {
			_ = pc.c.Close() // lost: the reader's frame goes back
			return
		}
		_ = pc.write(text(`{"conn":2}`))
		pc.hold()
	})
	frames := pool.New("test.frames", 4, func() *schema.WsFrame { return &schema.WsFrame{} }, nil)
	opts := peerOptions()
	opts.Frames = frames
	k := &sink{}
	h := start(t, p.url(), opts, k, leaks)
	h.sink.waitFor(t, `{"conn":2}`)
	require.Len(t, k.got(), 3, "both snapshots whole, then conn 2's message")
	require.Equal(t, big, k.got()[0])
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, h.close(ctx))
	require.NoError(t, recvWait(t, h.runErr, "Run"))

	// Every frame of the pool, the one each reader held included.
	var got []*schema.WsFrame
	for range frames.Capacity() {
		f, err := frames.TryGet()
		require.NoError(t, err)
		require.LessOrEqual(t, cap(f.Data), maxKeptFrame, "a frame kept a %d-byte buffer", cap(f.Data))
		got = append(got, f)
	}
	for _, f := range got {
		frames.Put(f)
	}
	require.NoError(t, frames.Shutdown(ctx))
	p.close()
	goleak.VerifyNone(t, leaks)
}
