package venuesim_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Binance spot "WebSocket Streams", WebSocket Limits: "WebSocket
// connections have a limit of 5 incoming messages per second. A message is
// considered: A PING frame, A PONG frame, A JSON controlled message (e.g.
// subscribe, unsubscribe)." A client that pings ten times a second is cut
// (1008) as on Binance, not served: a bot whose keep-alive is too eager
// learns it from its tests.
func TestS24PingFramesCountInIncomingLimit(t *testing.T) {
	// The venue's clock stands still: the twenty pings are within one
	// second of it however slowly a busy machine sends them.
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 20, PingInterval: -1, Clock: newS29Clock(s29Epoch)})
	defer v.Close()
	c := dial(t, v.StreamURL("btcusdt@trade"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	closed := readUntilClosed(ctx, c)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
			defer pcancel()
			_ = c.Ping(pctx) // fails once cut
		}()
	}
	wg.Wait()
	select {
	case err := <-closed:
		assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err), "cut for too many pings: %v", err)
	case <-ctx.Done():
		t.Fatal("twenty pings at once were all served")
	}
	require.Eventually(t, func() bool { return v.Stats().TooManyMessages == 1 }, 10*time.Second, 5*time.Millisecond)
}

// Pings within the limit are answered, and the connection stays.
func TestS24PingsWithinLimitServed(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 20, PingInterval: -1})
	defer v.Close()
	c := dial(t, v.StreamURL("btcusdt@trade"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	closed := readUntilClosed(ctx, c)
	for range 3 {
		require.NoError(t, c.Ping(ctx))
	}
	assert.Zero(t, v.Stats().TooManyMessages)
	_ = c.CloseNow()
	assert.Error(t, <-closed, "the reader ends with the connection")
}

// readUntilClosed reads c (so that its pongs reach Ping) until it fails,
// and sends the error.
func readUntilClosed(ctx context.Context, c *websocket.Conn) <-chan error {
	closed := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				closed <- err
				return
			}
		}
	}()
	return closed
}

// Binance spot "WebSocket Streams", Live Subscribing/Unsubscribing: "The id
// is used as an identifier to uniquely identify the messages going back
// and forth. The following formats are accepted: 64-bit signed integer,
// alphanumeric strings; max length 36, null." Each is answered with the id
// as sent; anything else (a fraction, a boolean, a string too long or with
// other characters, an integer past int64, no id) is the documented code 2.
func TestS24SubscribeIDFormats(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1, IncomingLimit: -1})
	defer v.Close()
	c := dial(t, v.URL()+"/ws")
	for _, id := range []string{`1`, `0`, `-42`, `9223372036854775807`, `-9223372036854775808`, `"sub1"`, `"7d3b9b46-5f4f-4c8b-9a2d-0a8f9a4a0f5b"`, `null`} {
		write(t, c, `{"method":"LIST_SUBSCRIPTIONS","id":`+id+`}`)
		assert.JSONEq(t, `{"result":[],"id":`+id+`}`, string(read(t, c)), "id %s", id)
	}
	const bad = `{"error":{"code":2,"msg":"Invalid request: request ID must be an unsigned integer"},"id":null}`
	for _, id := range []string{`1.5`, `true`, `"has space"`, `"x123456789012345678901234567890123456"`, `""`, `9223372036854775808`, `{}`, `[1]`} {
		write(t, c, `{"method":"LIST_SUBSCRIPTIONS","id":`+id+`}`)
		assert.JSONEq(t, bad, string(read(t, c)), "id %s", id)
	}
	write(t, c, `{"method":"LIST_SUBSCRIPTIONS"}`)
	assert.JSONEq(t, bad, string(read(t, c)), "no id")
}

// Binance's market streams announce a shutdown ("General WSS information":
// "A serverShutdown event will be sent when the server is about to
// shutdown, resulting in disconnection"), as {"e":"serverShutdown","E":…}:
// FaultServerShutdown sends it on every market connection, raw and
// combined alike, between market messages; the connection stays until the
// test closes it (FaultClose), so a host's reconnection before the cut
// can be seen.
func TestS24FaultServerShutdown(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 200})
	defer v.Close()
	for _, url := range []string{v.StreamURL("btcusdt@trade"), v.StreamURL("btcusdt@trade", "btcusdt@bookTicker")} {
		c := dial(t, url)
		read(t, c) // connected and served
		require.Positive(t, v.Inject(venuesim.FaultServerShutdown))
		var ev struct {
			E    string `json:"e"`
			Time int64  `json:"E"`
		}
		for ev.E != "serverShutdown" {
			ev.E = ""
			_ = json.Unmarshal(read(t, c), &ev)
		}
		assert.Positive(t, ev.Time)
		_ = c.CloseNow()
	}
	assert.Equal(t, "server-shutdown", venuesim.FaultServerShutdown.String())
}

// Binance answers a SUBSCRIBE to a well-formed stream of a symbol it does
// not list with success, {"result":null,…}, and then sends nothing (the
// Binance.Net maintainer, JKorf/Binance.Net#620: "It doesn't return an
// error if you try to subscribe" to XRPXRP): the silent case a bot must
// notice by itself, which the simulator answered with an error instead. A
// stream that is not well-formed is {"code":2,"msg":"Invalid request:
// invalid stream"} (as Binance answers it, ctubio/Krypto-trading-bot#1121).
func TestS24SubscribeUnknownSymbolIsSilent(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1, IncomingLimit: -1})
	defer v.Close()
	c := dial(t, v.URL()+"/ws")
	write(t, c, `{"method":"SUBSCRIBE","params":["xrpxrp@trade"],"id":1}`)
	assert.JSONEq(t, `{"result":null,"id":1}`, string(read(t, c)))
	write(t, c, `{"method":"LIST_SUBSCRIPTIONS","id":2}`)
	assert.JSONEq(t, `{"result":["xrpxrp@trade"],"id":2}`, string(read(t, c)))
	for i, bad := range []string{"btcusdt@nosuch", "btcusdt", "@trade", "BTCUSDT@trade", "btc usdt@trade"} {
		write(t, c, `{"method":"SUBSCRIBE","params":["`+bad+`"],"id":`+itoa(uint64(10+i))+`}`)
		assert.JSONEq(t, `{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":`+itoa(uint64(10+i))+`}`, string(read(t, c)), bad)
	}
}

// Each subscribed stream is its own stream, as on Binance: a connection
// subscribed to btcusdt@depth and btcusdt@depth@100ms gets both, each
// continuous (every diff's U the previous u + 1 on its stream). The
// simulator sent each diff once, under the first name, so a book fed by
// the other stream never received an update.
func TestS24EveryStreamOfAConnectionServed(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000})
	defer v.Close()
	c := dial(t, v.StreamURL("btcusdt@depth", "btcusdt@depth@100ms"))
	last := map[string]int64{}
	counts := map[string]int{}
	for i := 0; i < 2000 && (counts["btcusdt@depth"] < 5 || counts["btcusdt@depth@100ms"] < 20); i++ {
		var env struct {
			Stream string `json:"stream"`
			Data   struct {
				First int64 `json:"U"`
				Last  int64 `json:"u"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(read(t, c), &env))
		if p, ok := last[env.Stream]; ok {
			require.Equal(t, p+1, env.Data.First, "%s continuous", env.Stream)
		}
		last[env.Stream] = env.Data.Last
		counts[env.Stream]++
	}
	assert.GreaterOrEqual(t, counts["btcusdt@depth"], 5) // one a second (Binance "Diff. Depth Stream")
	assert.GreaterOrEqual(t, counts["btcusdt@depth@100ms"], 20, "the second stream served too")
}
