package venuesim_test

import (
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Binance cuts every connection at 24 hours ("WebSocket Streams": "A
// single connection to stream.binance.com is only valid for 24 hours;
// expect to be disconnected at the 24 hour mark"; WebSocket API "General
// API Information": "A single connection to the API is only valid for 24
// hours; expect to be disconnected after the 24-hour mark"). The venue
// kept connections forever unless told (MaxConnAge 0), so a client run
// for days on a fake clock never met the cut it meets on Binance every
// day. Now by default, on the clock: a stream connection and a WS-API
// connection open at 24 h less a second, both closed at 24 h; a negative
// MaxConnAge keeps them.
func TestS31simConnectionsCutAt24hByDefault(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 10, Clock: clk, PingInterval: -1})
	defer v.Close()
	stream := dial(t, v.StreamURL("btcusdt@trade"))
	defer func() { _ = stream.CloseNow() }()
	api := dial(t, v.APIURL())
	defer func() { _ = api.CloseNow() }()
	streamErr, apiErr := make(chan error, 1), make(chan error, 1)
	go func() { streamErr <- drain(stream) }()
	go func() { apiErr <- drain(api) }()
	clk.waitSleeping(t, 24*time.Hour, 2)
	clk.Advance(24*time.Hour - time.Second)
	assert.EqualValues(t, 2, v.Stats().Active)
	clk.Advance(time.Second)
	for name, errc := range map[string]chan error{"stream": streamErr, "WS-API": apiErr} {
		select {
		case err := <-errc:
			assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err), "%s: %v", name, err)
		case <-s29Ctx(t).Done():
			t.Fatalf("%s not cut at 24 h", name)
		}
	}

	keep := venuesim.Start(&venuesim.Options{Rate: 10, Clock: clk, PingInterval: -1, MaxConnAge: -1})
	defer keep.Close()
	c := dial(t, keep.StreamURL("btcusdt@trade"))
	defer func() { _ = c.CloseNow() }()
	go func() { _ = drain(c) }()
	require.Eventually(t, func() bool { return keep.Stats().Active == 1 }, time.Minute, time.Millisecond)
	clk.Advance(48 * time.Hour)
	require.Zero(t, clk.sleeping(24*time.Hour), "no cut armed")
	assert.EqualValues(t, 1, keep.Stats().Active)
}

// OKX documents no connection age: the 24 h default is Binance's and cuts
// no OKX connection (no age timer is armed for it).
func TestS31simOKXNotCutForAge(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1, Clock: clk, PingInterval: -1})
	defer v.Close()
	c := dial(t, v.OKXURL())
	defer func() { _ = c.CloseNow() }()
	clk.waitSleeping(t, 30*time.Second, 1) // its idle cut: armed, so the connection is the venue's
	assert.Zero(t, clk.sleeping(24*time.Hour))
}
