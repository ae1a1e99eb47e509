package meltica_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s27ctHub is a venue that sends the same message to every open
// connection, when the test says so.
type s27ctHub struct {
	mu    sync.Mutex
	conns map[*websocket.Conn]context.Context
}

func (h *s27ctHub) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer func() { _ = c.CloseNow() }()
	ctx := c.CloseRead(r.Context())
	h.mu.Lock()
	h.conns[c] = ctx
	h.mu.Unlock()
	<-ctx.Done()
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

func (h *s27ctHub) open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

func (h *s27ctHub) send(msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c, ctx := range h.conns {
		_ = c.Write(ctx, websocket.MessageText, []byte(msg))
	}
}

// Client.Rotate is "Safe for concurrent use, and from the handler or
// OnEvent", and "the handler never runs twice at once across a rotation
// begun from it". A handler that asks for a rotation on the first
// message: the rotation happens (Connected with ReasonRotation and a new
// ConnID), the venue's messages sent to both connections meanwhile reach
// the handler once each and in order, and the handler never runs twice at
// once. A second Rotate from the handler during the rotation "counts
// once".
func TestS27ctClientRotateFromTheHandler(t *testing.T) {
	hub := &s27ctHub{conns: map[*websocket.Conn]context.Context{}}
	url := s27ctServer(t, hub.serve)
	clk := newS27ctClock()
	evs := newS27ctEvents()
	var c *wsclient.Client
	var inside atomic.Int32
	var mu sync.Mutex
	var got []string
	rotateErr := make(chan error, 2)
	h := func(_ context.Context, f *schema.WsFrame) error {
		if inside.Add(1) != 1 {
			t.Error("the handler runs twice at once")
		}
		defer inside.Add(-1)
		mu.Lock()
		got = append(got, string(f.Data))
		n := len(got)
		mu.Unlock()
		if n == 1 || n == 2 {
			rotateErr <- c.Rotate()
		}
		return nil
	}
	var err error
	c, err = wsclient.New(url, h, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on, PingInterval: -1, IdleTimeout: -1, CloseTimeout: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	up := evs.await(t, "connected", func(ev wsclient.Event) bool { return ev.State == schema.ConnConnected })
	received := func(n int) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= n }
	}
	require.Eventually(t, func() bool { return hub.open() == 1 }, s27ctWait, time.Millisecond)
	hub.send(`{"n":1}`)
	require.Eventually(t, received(1), s27ctWait, time.Millisecond)
	require.NoError(t, <-rotateErr, "Rotate from the handler")
	require.Eventually(t, func() bool { return hub.open() == 2 }, s27ctWait, time.Millisecond, "the new connection is dialled beside the old")
	for i := 2; i <= 6; i++ {
		hub.send(fmt.Sprintf(`{"n":%d}`, i))
	}
	require.NoError(t, <-rotateErr, "a second Rotate during the rotation")
	rot := evs.await(t, "the rotation completed", func(ev wsclient.Event) bool {
		return ev.State == schema.ConnConnected && ev.Reason == wsclient.ReasonRotation
	})
	assert.NotEqual(t, up.ConnID, rot.ConnID)
	assert.NoError(t, rot.Err, "aligned: the same messages on both connections")
	require.Eventually(t, received(6), s27ctWait, time.Millisecond)
	hub.send(`{"n":7}`)
	require.Eventually(t, received(7), s27ctWait, time.Millisecond)
	mu.Lock()
	assert.Equal(t, []string{`{"n":1}`, `{"n":2}`, `{"n":3}`, `{"n":4}`, `{"n":5}`, `{"n":6}`, `{"n":7}`}, got, "once each, in order")
	mu.Unlock()
	assert.Equal(t, uint64(1), c.Stats().Rotations, "the second request during the rotation counted once")
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, <-done)
}
