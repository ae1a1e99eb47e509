package wsclient

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The pong to a venue's ping that waits for its ControlRate slot stops
// waiting when its connection ends, not only at coder/websocket's bound
// (5 s of the wall clock, which a host's fake clock never reaches in
// time): the reader, and Close waiting for it, are not held. Failed
// before: onPing waited on its ctx alone, which here never ends.
func TestS31rvwsPongWaitEndsWithTheConnection(t *testing.T) {
	clk := newFakeClock()
	clk.blockSlp = true
	p := newPacer(&Options{Clock: clk, ControlRate: 5})
	conn, end := context.WithCancel(context.Background())
	p.conn = conn
	require.NoError(t, p.take(context.Background(), false)) // the slot just taken
	done := make(chan bool)
	go func() { done <- p.onPing(context.Background(), nil) }()
	require.Eventually(t, func() bool { return p.pings.Load() == 1 }, 3*wait, time.Millisecond, "the ping queued")
	select {
	case <-done:
		t.Fatal("the pong did not wait for its slot")
	default:
	}
	end()
	select {
	case answered := <-done:
		require.True(t, answered, "coder/websocket still writes the pong (and fails: the connection is closed)")
	case <-time.After(3 * wait):
		t.Fatal("the pong still waits after its connection ended")
	}
}
