package venuesim_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// s29Clock is a fake Options.Clock: time moves only by Advance, and
// every Sleep is a waiter a test can see (by its duration) before it
// moves the clock.
type s29Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters map[*s29Waiter]struct{}
}

type s29Waiter struct {
	at time.Time
	d  time.Duration
	ch chan struct{}
}

func newS29Clock(at time.Time) *s29Clock {
	return &s29Clock{now: at, waiters: map[*s29Waiter]struct{}{}}
}

func (c *s29Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *s29Clock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	w := &s29Waiter{at: c.now.Add(d), d: d, ch: make(chan struct{})}
	c.waiters[w] = struct{}{}
	c.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.waiters, w)
		c.mu.Unlock()
		return ctx.Err()
	}
}

// Advance moves the clock by d and wakes every sleeper due by then.
func (c *s29Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for w := range c.waiters {
		if !w.at.After(c.now) {
			close(w.ch)
			delete(c.waiters, w)
		}
	}
}

// sleeping is how many sleepers of duration d wait now.
func (c *s29Clock) sleeping(d time.Duration) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for w := range c.waiters {
		if w.d == d {
			n++
		}
	}
	return n
}

// waitSleeping waits (a condition, with a generous failure guard) until n
// sleepers of duration d wait.
func (c *s29Clock) waitSleeping(t *testing.T, d time.Duration, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return c.sleeping(d) == n }, time.Minute, time.Millisecond,
		"%d sleepers of %v", n, d)
}

var s29Epoch = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

func s29Ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // failure guard only
	t.Cleanup(cancel)
	return ctx
}

// Server pings follow Options.Clock: every PingInterval of the venue's
// clock (Binance: every 20 s), none before; a client that answers is
// kept, one that does not answer within a minute of the venue's clock is
// dropped ("WebSocket Limits": "If the websocket server does not receive
// a pong frame back from the connection within a 1 minute period, the
// connection will be disconnected"). Before Options.Clock the pinger ran
// on a wall-clock ticker and a test waited 20 s for a ping.
func TestS29PingsAndPongMinuteOnTheClock(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 10, Clock: clk, IncomingLimit: -1})
	defer v.Close()
	ctx := s29Ctx(t)
	var pings atomic.Int32
	reader, _, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), &websocket.DialOptions{
		OnPingReceived: func(context.Context, []byte) bool { pings.Add(1); return true }})
	require.NoError(t, err)
	defer func() { _ = reader.CloseNow() }()
	go func() { _ = drain(reader) }()
	silent, _, err := websocket.Dial(ctx, v.StreamURL(), nil) // no stream: nothing to read but the ping
	require.NoError(t, err)
	defer func() { _ = silent.CloseNow() }()

	clk.waitSleeping(t, 20*time.Second, 2) // both pingers wait
	clk.Advance(20*time.Second - time.Millisecond)
	assert.Zero(t, pings.Load(), "no ping before 20 s of the venue's clock")
	clk.Advance(time.Millisecond)
	require.Eventually(t, func() bool { return pings.Load() == 1 }, time.Minute, time.Millisecond, "a ping at 20 s")
	// The reader's pong came: its pinger waits 20 s again; the silent
	// client's ping waits for its pong a minute.
	clk.waitSleeping(t, 20*time.Second, 1)
	clk.waitSleeping(t, time.Minute, 1)
	assert.EqualValues(t, 2, v.Stats().Active)
	clk.Advance(time.Minute)
	require.Eventually(t, func() bool { return v.Stats().Active == 1 }, time.Minute, time.Millisecond,
		"the client that never answered is dropped a minute after the ping")
	_, _, err = silent.Read(ctx)
	require.Error(t, err)
	// The reader was pinged again as the clock passed 40 s (at 80 s),
	// and is pinged every 20 s of the clock on, and kept.
	require.Eventually(t, func() bool { return pings.Load() == 2 }, time.Minute, time.Millisecond)
	for n := int32(3); n <= 5; n++ {
		clk.waitSleeping(t, 20*time.Second, 1)
		clk.Advance(20 * time.Second)
		require.Eventually(t, func() bool { return pings.Load() == n }, time.Minute, time.Millisecond, "ping %d", n)
	}
	assert.EqualValues(t, 1, v.Stats().Active)
}

// Options.MaxConnAge cuts on the venue's clock (Binance: "A single
// connection to stream.binance.com is only valid for 24 hours"), with a
// normal close: a test meets the 24 h cut without waiting a day.
func TestS29MaxConnAgeOnTheClock(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 10, Clock: clk, MaxConnAge: 24 * time.Hour, PingInterval: -1})
	defer v.Close()
	c := dial(t, v.StreamURL("btcusdt@trade"))
	defer func() { _ = c.CloseNow() }()
	errc := make(chan error, 1)
	go func() { errc <- drain(c) }()
	clk.waitSleeping(t, 24*time.Hour, 1)
	clk.Advance(24*time.Hour - time.Second)
	assert.EqualValues(t, 1, v.Stats().Active)
	// SetMaxConnAge re-arms from now, on the clock.
	v.SetMaxConnAge(time.Hour)
	clk.waitSleeping(t, time.Hour, 1)
	require.Zero(t, clk.sleeping(24*time.Hour), "the old cut is disarmed")
	clk.Advance(time.Hour)
	select {
	case err := <-errc:
		assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err), "%v", err)
	case <-s29Ctx(t).Done():
		t.Fatal("not cut at its age")
	}
}

// Options.ConnectLimit's window runs on the venue's clock: refused with
// Retry-After 300 (Binance: 300 connections every 5 minutes per IP), let
// in once the window has passed on the clock. On a clock stepped back (a
// fake Options.Clock, as a wall clock stepped by NTP) an admission counts
// for at most the window from the step (s29rv: before, an hour's step
// gave Retry-After 3900 and refused for 65 minutes).
func TestS29ConnectWindowOnTheClock(t *testing.T) {
	for _, tc := range []struct {
		name        string
		step        time.Duration // the clock's move after the first connection
		retry       string
		passedAfter time.Duration
	}{
		{"a minute on: 4 of the window's 5 minutes left", time.Minute, "240", 4 * time.Minute},
		{"an hour back: at most the window", -time.Hour, "300", 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newS29Clock(s29Epoch)
			v := venuesim.Start(&venuesim.Options{Rate: 1, Clock: clk, ConnectLimit: 1, PingInterval: -1})
			defer v.Close()
			ctx := s29Ctx(t)
			c, _, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
			require.NoError(t, err)
			_ = c.CloseNow()
			clk.Advance(tc.step)
			_, resp, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
			require.Error(t, err)
			require.NotNil(t, resp)
			assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
			assert.Equal(t, tc.retry, resp.Header.Get("Retry-After"))
			clk.Advance(tc.passedAfter)
			c, _, err = websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
			require.NoError(t, err, "the window has passed on the venue's clock")
			_ = c.CloseNow()
		})
	}
}

// Options.IncomingLimit's second is the venue's: 5 messages, a second of
// the clock, 5 more are allowed (Binance: 5 incoming messages per
// second); a 6th within the second is cut with 1008. Before, the second
// was the wall clock's and the 10 messages sent at once were cut. On a
// clock stepped back an hour (then 2 s on) the second starts again
// (s29rv: before, the 5 messages made before the step lay in the clock's
// future and the first message after it was cut).
func TestS29IncomingLimitOnTheClock(t *testing.T) {
	for _, step := range []time.Duration{time.Second, -time.Hour + 2*time.Second} {
		t.Run(step.String(), func(t *testing.T) {
			clk := newS29Clock(s29Epoch)
			v := venuesim.Start(&venuesim.Options{Rate: 1, Clock: clk, PingInterval: -1})
			defer v.Close()
			c := dial(t, v.StreamURL())
			defer func() { _ = c.CloseNow() }()
			id := 0
			list := func() {
				t.Helper()
				id++
				write(t, c, `{"method":"LIST_SUBSCRIPTIONS","id":`+strconv.Itoa(id)+`}`)
				assert.Contains(t, string(read(t, c)), `"id":`+strconv.Itoa(id))
			}
			for range 5 {
				list()
			}
			clk.Advance(step)
			for range 5 {
				list()
			}
			write(t, c, `{"method":"LIST_SUBSCRIPTIONS","id":99}`)
			_, _, err := c.Read(s29Ctx(t))
			assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err), "%v", err)
			assert.EqualValues(t, 1, v.Stats().TooManyMessages)
		})
	}
}

// Every time the venue tells is its clock's: market events' E, the
// WS-API's serverTime and rateLimits minute, REST /api/v3/time and
// exchangeInfo's serverTime, recvWindow. Before, each was the wall
// clock's.
func TestS29TimesAreTheClocks(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 100, Clock: clk, PingInterval: -1, APIKey: "key", APISecret: "secret"})
	defer v.Close()
	ms := float64(s29Epoch.UnixMilli())

	// Market data is made as the clock moves, stamped with its time: the
	// second moved makes 10 messages (100 ms of them at once), each a
	// trade or a depth diff 7 times in 10.
	c := dial(t, v.StreamURL("btcusdt@depth", "btcusdt@trade"))
	defer func() { _ = c.CloseNow() }()
	clk.waitSleeping(t, time.Millisecond, 1)
	clk.Advance(time.Second)
	p, ok := s29Decode(read(t, c))
	require.True(t, ok)
	assert.EqualValues(t, ms+1000, p.Time, "E is the venue's clock")

	rest, err := httpGetJSON(v.RESTURL() + "/api/v3/time")
	require.NoError(t, err)
	assert.Equal(t, ms+1000, rest["serverTime"])
	info, err := httpGetJSON(v.RESTURL() + "/api/v3/exchangeInfo")
	require.NoError(t, err)
	assert.Equal(t, ms+1000, info["serverTime"])

	a := openAPI(t, v)
	write(t, a.c, `{"id":1,"method":"time"}`)
	r := a.response(1)
	assert.Equal(t, map[string]any{"serverTime": ms + 1000}, r["result"])
	// The IP's weight, REST's included (s30sim): /api/v3/time 1 and
	// exchangeInfo 20 above.
	assert.Equal(t, float64(1+20+2+2+1), r["rateLimits"].([]any)[0].(map[string]any)["count"], "REST 21, connect 2, userDataStream.subscribe 2, time 1 in the clock's minute")
	clk.Advance(time.Minute)
	write(t, a.c, `{"id":2,"method":"time"}`)
	r = a.response(2)
	assert.Equal(t, float64(1), r["rateLimits"].([]any)[0].(map[string]any)["count"], "a new minute on the clock")

	// recvWindow is checked against the clock: a timestamp of the clock's
	// now is accepted, one of the wall clock's refused with -1021.
	place := func(id int, ts int64) map[string]any {
		params := map[string]string{"apiKey": "key", "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
			"price": "99999", "quantity": "0.001", "timestamp": strconv.FormatInt(ts, 10)}
		params["signature"] = sign("secret", params)
		body, err := json.Marshal(map[string]any{"id": id, "method": "order.place", "params": params})
		require.NoError(t, err)
		write(t, a.c, string(body))
		return a.response(float64(id))
	}
	assert.Equal(t, float64(200), place(3, clk.Now().UnixMilli())["status"])
	bad := place(4, time.Now().UnixMilli())
	assert.Equal(t, float64(-1021), bad["error"].(map[string]any)["code"], "%v", bad)
}
