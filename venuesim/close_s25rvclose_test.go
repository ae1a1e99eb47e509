package venuesim_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Close waits for every connection, and so must not wait on a client
// that never reads: market streams piling up unread, and a WS-API client
// that writes requests faster than it takes (never) their answers. Close
// returns (a deadlock guard, generous: no wall-clock assertion) and
// leaves no connection open.
func TestS25rvCloseWithClientsThatNeverRead(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 5000})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var conns []*websocket.Conn
	for range 4 {
		c, _, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade", "btcusdt@depth@100ms", "ethusdt@trade"), nil)
		require.NoError(t, err)
		conns = append(conns, c)
	}
	api, _, err := websocket.Dial(ctx, v.APIURL(), nil)
	require.NoError(t, err)
	conns = append(conns, api)
	defer func() {
		for _, c := range conns {
			_ = c.CloseNow()
		}
	}()
	for i := range 2000 {
		if api.Write(ctx, websocket.MessageText, []byte(`{"id":`+strconv.Itoa(i)+`,"method":"ping"}`)) != nil {
			break // the venue cut the unread client off
		}
	}
	require.Eventually(t, func() bool { return v.Stats().Sent > 1000 }, 30*time.Second, time.Millisecond)
	done := make(chan struct{})
	go func() { v.Close(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("Close still waiting on clients that never read")
	}
	assert.Zero(t, v.Stats().Active)
}
