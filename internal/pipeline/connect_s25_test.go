package pipeline

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// refusingOnce answers its first upgrade with 503, then serves n trades
// on each connection and holds it open.
func refusingOnce(t *testing.T, n int) *httptest.Server {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		for i := range n {
			msg := `{"e":"trade","E":1,"s":"BTCUSDT","t":` + string(rune('1'+i%9)) + `,"p":"1.0","q":"1.0","T":1,"m":true,"M":true}`
			if c.Write(r.Context(), websocket.MessageText, []byte(msg)) != nil {
				return
			}
		}
		_, _, _ = c.Read(r.Context())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// "Never connected" is decided from what the client did, not from its
// Connected event alone: events wait in a bounded queue (wsclient
// EventBuffer) for a host's OnState, and a slow one loses them, the
// Connected event among others. Connect then called a run that handled
// every frame it asked for ErrNeverConnected.
func TestS25NeverConnectedDoesNotTrustDroppedEvents(t *testing.T) {
	const frames = 5
	srv := refusingOnce(t, frames)
	v, err := Lookup("binance")
	require.NoError(t, err)
	p, err := New(Config{Venue: v})
	require.NoError(t, err)
	defer func() { require.NoError(t, p.Close(context.Background())) }()
	handled := make(chan struct{})
	var once atomic.Bool
	var seen []schema.ConnState
	st, err := p.Connect(context.Background(), ClientConfig{
		URL: "ws" + strings.TrimPrefix(srv.URL, "http"), Frames: frames, EventBuffer: 1,
		// A host slow to take its events: it holds the first one until
		// the frames came, and the queue of one fills meanwhile.
		OnState: func(e wsclient.Event) {
			seen = append(seen, e.State)
			if len(seen) == 1 {
				select {
				case <-handled:
				case <-time.After(30 * time.Second):
				}
			}
		},
		Progress: func(n uint64) {
			if n == frames && once.CompareAndSwap(false, true) {
				close(handled)
			}
		},
	}, v.Name)
	require.NoError(t, err, "events seen: %v", seen)
	assert.Equal(t, uint64(frames), p.Frames())
	assert.NotZero(t, st.EventsDropped, "the case under test: events were dropped")
}
