package venuesim_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Binance USDⓈ-M futures' streams ping every 3 minutes and drop a
// connection whose pong has not come within 10 minutes (futures
// "WebSocket Market Streams"; Binance dev forum "How to send ping/pong to
// Binance websocket Server": "sends ping frame to client every 3
// minutes. If no pong frame returned back from client in 10 minutes,
// the server will disconnect"). The venue's pong wait was a fixed minute
// (spot's): a futures client's keepalive could not be tested against
// the venue. With PingInterval 3 min and PongWait 10 min, on the venue's
// clock: the ping at 3 min, a client that answers kept, one that never
// answers still open 1 minute and 9:59 after the ping, dropped at 10.
func TestS31simFuturesPingAndPongWait(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 10, Clock: clk, IncomingLimit: -1,
		PingInterval: 3 * time.Minute, PongWait: 10 * time.Minute})
	defer v.Close()
	ctx := s29Ctx(t)
	var pings atomic.Int32
	reader, _, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), &websocket.DialOptions{
		OnPingReceived: func(context.Context, []byte) bool { pings.Add(1); return true }})
	require.NoError(t, err)
	defer func() { _ = reader.CloseNow() }()
	go func() { _ = drain(reader) }()
	silent, _, err := websocket.Dial(ctx, v.StreamURL(), nil) // never reads: never pongs
	require.NoError(t, err)
	defer func() { _ = silent.CloseNow() }()

	clk.waitSleeping(t, 3*time.Minute, 2)
	clk.Advance(3 * time.Minute)
	require.Eventually(t, func() bool { return pings.Load() == 1 }, time.Minute, time.Millisecond, "a ping at 3 min")
	clk.waitSleeping(t, 10*time.Minute, 1) // the silent client's pong wait
	for n := int32(2); n <= 4; n++ {       // 9 minutes, the reader pinged every 3
		clk.waitSleeping(t, 3*time.Minute, 1)
		clk.Advance(3 * time.Minute)
		require.Eventually(t, func() bool { return pings.Load() == n }, time.Minute, time.Millisecond, "ping %d", n)
		assert.EqualValues(t, 2, v.Stats().Active, "no pong for %d minutes is within the futures' 10", 3*(n-1))
	}
	clk.waitSleeping(t, 3*time.Minute, 1)
	clk.Advance(time.Minute - time.Millisecond)
	assert.EqualValues(t, 2, v.Stats().Active, "no pong for 9:59.999")
	clk.Advance(time.Millisecond)
	require.Eventually(t, func() bool { return v.Stats().Active == 1 }, time.Minute, time.Millisecond,
		"dropped 10 minutes after the ping")
	_, _, err = silent.Read(ctx)
	require.Error(t, err)
	assert.EqualValues(t, 1, v.Stats().Active, "the reader, that answered every ping, kept")
}

// A Binance stream can be quiet for minutes (a market with no trades):
// the server's pings keep the connection, and nothing else comes. The
// venue, paused, is such a stream on its clock: a client that answers
// every ping is pinged every 20 s for 10 minutes, receives no data, and
// is kept — what an idle watchdog must tell from a dead connection.
func TestS31simQuietStreamKeptByPings(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 10, Clock: clk, IncomingLimit: -1, MaxConnAge: -1})
	defer v.Close()
	v.Pause(true)
	ctx := s29Ctx(t)
	var pings atomic.Int32
	c, _, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), &websocket.DialOptions{
		OnPingReceived: func(context.Context, []byte) bool { pings.Add(1); return true }})
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	var frames atomic.Int32
	go func() {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
			frames.Add(1)
		}
	}()
	for n := int32(1); n <= 30; n++ {
		clk.waitSleeping(t, 20*time.Second, 1)
		clk.Advance(20 * time.Second)
		require.Eventually(t, func() bool { return pings.Load() == n }, time.Minute, time.Millisecond, "ping %d", n)
	}
	assert.Zero(t, frames.Load(), "10 minutes of the clock without a message")
	assert.EqualValues(t, 1, v.Stats().Active, "kept by its pongs")
}
