package wsclient

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// A host's paced Write waiting for a MessageLimit's slot (or its
// connection's own budget) ends with its connection, as lockWrite's wait
// does: it waited on the host's ctx alone, holding the dead connection's
// write turn and the shared queue's head (every other connection's
// frames behind it) until the clock gave it a slot, then wrote on a
// connection long gone. Here the clock never moves: before, the Write
// never returned.
func TestS35rvwsPacedWriteEndsWithItsConnection(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	clk := newFakeClock()
	clk.blockSlp = true
	v := newVenue(t, func(s *session) {
		if s.n == 1 {
			_ = s.readN(1) // then ends the connection
			return
		}
		<-s.ctx.Done()
	})
	opts := peerOptions()
	opts.Subscriptions = nil
	opts.PaceWrites = true
	opts.Clock = clk
	limit := NewMessageLimit(1, clk)
	opts.MessageLimit = limit
	h := start(t, v.url(), opts, &sink{}, leaks)
	h.clock = clk
	require.Eventually(t, func() bool { return h.live() != nil }, wait, time.Millisecond, "connected")
	cn := h.live()
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"first":1}`))) // the slot of the instant
	second := make(chan error, 1)
	go func() { second <- cn.write(context.Background(), []byte(`{"second":1}`)) }()
	// It waits for the next slot, which the clock never gives, and the
	// venue ends the connection, having read the first.
	err := recvWait(t, second, "the paced write's end with its connection")
	require.ErrorIs(t, err, ErrConnChanged)
	require.ErrorIs(t, err, ErrNotSent)
	h.finish(v)
}
