package venuesim_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/venuesim"
)

// A client that never reads: the venue's writer blocks on a full TCP
// window, its send queue fills, and the venue drops the connection
// (SlowDropped, "too slow") instead of queueing without bound or
// holding a goroutine on it, as Binance drops a slow consumer.
func TestS29NeverReadingClientIsDropped(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 5000, SendQueue: 64, PingInterval: -1})
	defer v.Close()
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.StreamURL("btcusdt@depth", "btcusdt@trade", "btcusdt@aggTrade", "btcusdt@bookTicker", "ethusdt@depth", "ethusdt@trade"), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	var st venuesim.Stats
	assert.Eventually(t, func() bool { st = v.Stats(); return st.SlowDropped == 1 && st.Active == 0 },
		20*time.Second, time.Millisecond, "a client that never reads is dropped")
	if t.Failed() {
		t.Logf("%+v", st)
	}
	// Its TCP connection is closed: what it had not read ends in an error.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for {
		if _, _, err := c.Read(rctx); err != nil {
			break
		}
	}
}

// A thousand connections opened and closed, market and WS-API, leave the
// venue as they found it: nothing Active, the goroutine count back where
// it was, and after Close no goroutine at all.
func TestS29ThousandConnectionsLeaveNothing(t *testing.T) {
	before := goleak.IgnoreCurrent()
	v := venuesim.Start(&venuesim.Options{Rate: 200, ConnectLimit: 100000, MaxConnAge: time.Hour})
	ctx := s29Ctx(t)
	base := runtime.NumGoroutine()
	urls := []string{v.StreamURL("btcusdt@trade"), v.StreamURL("btcusdt@depth", "ethusdt@trade"), v.StreamURL(), v.APIURL()}
	for i := range 1000 {
		c, _, err := websocket.Dial(ctx, urls[i%len(urls)], nil)
		require.NoError(t, err)
		if i%2 == 0 {
			_ = c.Close(websocket.StatusNormalClosure, "")
		} else {
			_ = c.CloseNow()
		}
	}
	require.Eventually(t, func() bool { return v.Stats().Active == 0 }, time.Minute, time.Millisecond)
	assert.EqualValues(t, 1000, v.Stats().Connections)
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= base+2 }, time.Minute, time.Millisecond,
		"goroutines %d, %d before the connections", runtime.NumGoroutine(), base)
	v.Close()
	goleak.VerifyNone(t, before)
}

// A WS-API client that sends requests and never reads their answers is
// dropped like a slow stream (1008 "too slow"), once, and counted in
// Stats.SlowDropped: before, its drop was not counted.
func TestS29NeverReadingAPIClientIsDropped(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 1, SendQueue: 16, PingInterval: -1})
	defer v.Close()
	ctx := s29Ctx(t)
	// Resting orders, placed by a client that reads its answers: each
	// openOrders.status answer then lists them all.
	a := dial(t, v.APIURL())
	defer func() { _ = a.CloseNow() }()
	for i := range 100 {
		write(t, a, `{"id":`+strconv.Itoa(i)+`,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"10.00","quantity":"1","timestamp":1}}`)
		require.Contains(t, string(read(t, a)), `"status":200`)
	}
	c, _, err := websocket.Dial(ctx, v.APIURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	// 2000 answers of 100 orders each are far more than the TCP buffers
	// and the send queue hold; a write fails once the venue has dropped
	// the connection.
	for range 2000 {
		if c.Write(ctx, websocket.MessageText, []byte(`{"id":"q","method":"openOrders.status","params":{"symbol":"ETHUSDT","timestamp":1}}`)) != nil {
			break
		}
	}
	require.Eventually(t, func() bool { return v.Stats().Active == 1 }, time.Minute, time.Millisecond)
	assert.EqualValues(t, 1, v.Stats().SlowDropped)
}
