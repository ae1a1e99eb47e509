package venuesim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// s27client runs a wsclient on url with opts (Venue and OnEvent set
// here) and records its frames' texts and its events.
type s27client struct {
	mu     sync.Mutex
	frames []string
	events []wsclient.Event
}

func (r *s27client) count(pred func(string) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, f := range r.frames {
		if pred(f) {
			n++
		}
	}
	return n
}

func (r *s27client) event(pred func(wsclient.Event) bool) (wsclient.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if pred(e) {
			return e, true
		}
	}
	return wsclient.Event{}, false
}

func runS27Client(t *testing.T, url string, opts wsclient.Options) *s27client {
	t.Helper()
	r := &s27client{}
	opts.Venue = schema.VenueBinance
	opts.OnEvent = func(e wsclient.Event) {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
	}
	cl, err := wsclient.New(url, func(_ context.Context, f *schema.WsFrame) error {
		r.mu.Lock()
		r.frames = append(r.frames, string(f.Data))
		r.mu.Unlock()
		return nil
	}, &opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = cl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return r
}

func isAnswer(f string) bool { return strings.HasPrefix(f, `{"result":null`) }

// Binance "WebSocket Limits": more than 5 incoming messages a second
// (pings, pongs and JSON control messages) and the connection is
// closed. A wsclient paced at its default ControlRate (4 a second)
// subscribes 12 times on every connection, the first and the one after
// a cut, and is never closed for it; with pacing off it is closed with
// 1008, and its Disconnected event carries that close.
func TestS27IncomingLimitPacedClientSurvives(t *testing.T) {
	var subs [][]byte
	for i := range 12 {
		sym := []string{"btcusdt", "ethusdt"}[i%2]
		kind := []string{"trade", "aggTrade", "bookTicker", "depth", "kline_1s", "kline_1m"}[i/2]
		subs = append(subs, fmt.Appendf(nil, `{"method":"SUBSCRIBE","params":["%s@%s"],"id":%d}`, sym, kind, i+1))
	}
	t.Run("paced", func(t *testing.T) {
		v := venuesim.Start(&venuesim.Options{Rate: 200})
		defer v.Close()
		r := runS27Client(t, v.StreamURL(), wsclient.Options{Subscriptions: subs})
		require.Eventually(t, func() bool { return r.count(isAnswer) == 12 }, time.Minute, time.Millisecond, "every subscription answered")
		require.Equal(t, 1, v.Inject(venuesim.FaultClose))
		require.Eventually(t, func() bool { return r.count(isAnswer) == 24 }, time.Minute, time.Millisecond, "every subscription answered again")
		assert.Zero(t, v.Stats().TooManyMessages)
	})
	t.Run("unpaced", func(t *testing.T) {
		v := venuesim.Start(&venuesim.Options{Rate: 200})
		defer v.Close()
		r := runS27Client(t, v.StreamURL(), wsclient.Options{Subscriptions: subs, ControlRate: -1})
		var lost wsclient.Event
		require.Eventually(t, func() bool {
			var ok bool
			lost, ok = r.event(func(e wsclient.Event) bool { return e.State == schema.ConnDisconnected })
			return ok
		}, time.Minute, time.Millisecond)
		assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(lost.Err), "%v", lost.Err)
		assert.EqualValues(t, 1, v.Stats().TooManyMessages)
	})
}

// Binance cuts every connection at 24 h ("A single connection to
// stream.binance.com is only valid for 24 hours"); Options.MaxConnAge
// (and SetMaxConnAge) cuts at that age with a close frame. A wsclient cut
// so redials, subscribes again and streams on.
func TestS27MaxConnAgeClientSurvives(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 500, MaxConnAge: 24 * time.Hour, Clock: clk, PingInterval: -1})
	defer v.Close()
	r := runS27Client(t, v.StreamURL(), wsclient.Options{Subscriptions: [][]byte{[]byte(`{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1}`)}})
	trades := func(f string) bool { return strings.Contains(f, `"e":"trade"`) }
	// The venue's clock moves a day at a time: two cuts at 24 h.
	for n := uint64(1); n <= 2; n++ {
		require.Eventually(t, func() bool { return v.Stats().Connections == n }, time.Minute, time.Millisecond)
		// Cut once subscribed: a connection is the venue's (and its age
		// armed) before the client holds its 101 and sends SUBSCRIBE.
		require.Eventually(t, func() bool { return r.count(isAnswer) >= int(n) }, time.Minute, time.Millisecond, "subscribed on connection %d", n)
		clk.waitSleeping(t, 24*time.Hour, 1)
		clk.Advance(24 * time.Hour)
	}
	require.Eventually(t, func() bool { return v.Stats().Connections >= 3 }, time.Minute, time.Millisecond, "cut at its age twice")
	require.Eventually(t, func() bool { return r.count(isAnswer) >= 3 }, time.Minute, time.Millisecond, "subscribed on each connection")
	n := r.count(trades)
	require.Eventually(t, func() bool { clk.Advance(time.Millisecond); return r.count(trades) > n }, time.Minute, time.Millisecond, "trades flow on")
	e, ok := r.event(func(e wsclient.Event) bool { return e.State == schema.ConnDisconnected })
	require.True(t, ok)
	assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(e.Err), "%v", e.Err)
}

// Binance: "A single connection can listen to a maximum of 1024
// streams". A combined URL naming more is refused at the upgrade with
// HTTP 400; a wsclient dialling it reports a *wsclient.HandshakeError
// with the 400 (and, a 4xx, waits its BackoffCap before the next dial)
// instead of streaming nothing.
func TestS27TooManyStreamsIsATypedHandshakeError(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 1})
	defer v.Close()
	names := make([]string, 1025)
	for i := range names {
		names[i] = fmt.Sprintf("s%dusdt@trade", i)
	}
	r := runS27Client(t, v.StreamURL(names...), wsclient.Options{})
	var refused *wsclient.HandshakeError
	require.Eventually(t, func() bool {
		_, ok := r.event(func(e wsclient.Event) bool { return errors.As(e.Err, &refused) })
		return ok
	}, time.Minute, time.Millisecond)
	assert.Equal(t, http.StatusBadRequest, refused.StatusCode)
	assert.Zero(t, v.Stats().Connections)
}
