package meltica_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Options.OnEvent / EventBuffer: "Events wait in a queue of EventBuffer;
// when it is full they are dropped and counted (Stats.EventsDropped,
// Event.Dropped). Handler and frame errors use at most half the queue, so
// that state changes find room." A host whose OnEvent is stuck while its
// handler fails on 100 messages and then the venue closes the
// connection: once OnEvent runs again it gets the Disconnected event
// (the state change found room), the errors dropped are counted in
// Stats.EventsDropped and told by an event's Dropped, and at most half
// the queue held handler errors.
func TestS27ctClientEventQueueKeepsRoomForStateChanges(t *testing.T) {
	sendAll := make(chan struct{})
	url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		select {
		case <-sendAll:
		case <-r.Context().Done():
			return
		}
		for i := 0; i < 100; i++ {
			if c.Write(r.Context(), websocket.MessageText, fmt.Appendf(nil, `{"i":%d}`, i)) != nil {
				return
			}
		}
		_ = c.Close(websocket.StatusGoingAway, "s27ct")
	})
	hold := make(chan struct{})
	var mu sync.Mutex
	var got []wsclient.Event
	connected := make(chan struct{}, 1)
	var seenUp bool // OnEvent runs on one goroutine
	onEvent := func(ev wsclient.Event) {
		if ev.State == schema.ConnConnected && !seenUp {
			seenUp = true
			connected <- struct{}{}
		}
		if seenUp {
			<-hold
		}
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}
	handled := make(chan struct{}, 128)
	h := func(context.Context, *schema.WsFrame) error {
		handled <- struct{}{}
		return errors.New("s27ct: the host's handler fails")
	}
	clk := newS27ctClock()
	c, err := wsclient.New(url, h, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: onEvent, EventBuffer: 8, PingInterval: -1, IdleTimeout: -1, CloseTimeout: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	s27ctClosed(t, connected, "connected (OnEvent is now held on an event)")
	close(sendAll)
	for i := 0; i < 100; i++ {
		s27ctClosed(t, handled, "the handler saw every message")
	}
	require.Eventually(t, func() bool { return c.Stats().TotalReconnects() > 0 }, s27ctWait, time.Millisecond, "the venue's close seen")
	require.Eventually(t, func() bool { return c.Stats().State == schema.ConnReconnecting }, s27ctWait, time.Millisecond)
	close(hold)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range got {
			if ev.State == schema.ConnReconnecting {
				return true
			}
		}
		return false
	}, s27ctWait, time.Millisecond, "the state changes after the errors reached OnEvent")
	st := c.Stats()
	assert.Equal(t, uint64(100), st.HandlerErrors)
	assert.Positive(t, st.EventsDropped, "errors dropped from the full queue")
	mu.Lock()
	var errs int
	var dropped uint64
	var lost bool
	for _, ev := range got {
		if ev.Reason == wsclient.ReasonHandlerError {
			errs++
		}
		dropped += ev.Dropped
		if ev.State == schema.ConnDisconnected && ev.Reason == wsclient.ReasonPeerClosed {
			lost = true
		}
	}
	t.Logf("OnEvent got %d events, %d of them handler errors, Dropped summing to %d; Stats.EventsDropped %d", len(got), errs, dropped, st.EventsDropped)
	assert.True(t, lost, "the Disconnected event found room")
	assert.LessOrEqual(t, errs, 8/2+1, "handler errors held at most half the queue (and the one being handed over)")
	assert.Equal(t, st.EventsDropped, dropped, "every drop told by an event's Dropped")
	mu.Unlock()
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, <-done)
}
