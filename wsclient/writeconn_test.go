package wsclient

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWriteConn: WriteConn writes on the connection it names only; once
// that connection is replaced it writes nothing and says so.
func TestWriteConn(t *testing.T) {
	c, err := New("ws://127.0.0.1:1", nop, nil)
	require.NoError(t, err)
	require.ErrorIs(t, c.WriteConn(context.Background(), 1, []byte("x")), ErrNotConnected)
	require.NoError(t, c.Close(context.Background()))

	h, v := startWriting(t, func(s *session) {
		if s.n == 1 {
			_ = s.readN(1)
			return // the first connection ends after one message
		}
		readingVenue(s)
	})
	require.NoError(t, h.c.WriteConn(context.Background(), 1, []byte("on-1")))
	h.rec.waitFor(t, "connected", connected(2))
	require.ErrorIs(t, h.c.WriteConn(context.Background(), 1, []byte("stale")), ErrConnChanged)
	require.NoError(t, h.c.WriteConn(context.Background(), 2, []byte("on-2")))
	require.Eventually(t, func() bool { return len(v.received(2)) == 1 }, wait, time.Millisecond)
	require.Equal(t, []string{"on-1"}, v.received(1))
	require.Equal(t, []string{"on-2"}, v.received(2), "nothing stale reached the new connection")
	h.finish(v)
	require.ErrorIs(t, h.c.WriteConn(context.Background(), 2, []byte("x")), ErrClosed)
}
