package venuesim_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/venuesim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	require.NoError(t, err)
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func read(t *testing.T, c *websocket.Conn) []byte {
	t.Helper()
	return readWithin(t, c, 5*time.Second)
}

// readWithin reads one message, failing the test past d.
func readWithin(t *testing.T, c *websocket.Conn, d time.Duration) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, msg, err := c.Read(ctx)
	require.NoError(t, err)
	return msg
}

func write(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	require.NoError(t, c.Write(context.Background(), websocket.MessageText, []byte(msg)))
}

// readUntil reads until pred accepts a message, and returns it.
func readUntil(t *testing.T, c *websocket.Conn, pred func(map[string]any) bool) map[string]any {
	t.Helper()
	for range 10000 {
		var m map[string]any
		require.NoError(t, json.Unmarshal(read(t, c), &m))
		if pred(m) {
			return m
		}
	}
	t.Fatal("no matching message")
	return nil
}

type depthMsg struct {
	Type string      `json:"e"`
	Time int64       `json:"E"`
	U    uint64      `json:"U"`
	LowU uint64      `json:"u"`
	B    [][2]string `json:"b"`
	A    [][2]string `json:"a"`
}

type snapshot struct {
	LastUpdateID uint64      `json:"lastUpdateId"`
	Bids         [][2]string `json:"bids"`
	Asks         [][2]string `json:"asks"`
}

func getSnapshot(t *testing.T, v *venuesim.Venue, sym string, limit int) snapshot {
	t.Helper()
	resp, err := http.Get(v.RESTURL() + "/api/v3/depth?symbol=" + sym + "&limit=" + strconv.Itoa(limit))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var s snapshot
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	return s
}

// TestDepthJoinsSnapshot follows Binance's rule for a local book: buffer
// diffs, fetch the snapshot, drop diffs with u <= lastUpdateId, the first
// applied one has U <= lastUpdateId+1 <= u, each later U is the previous
// u+1. The book built that way must equal a later snapshot.
func TestDepthJoinsSnapshot(t *testing.T) {
	// On the venue's clock, moved by the test (s39Drive): 70 diffs of
	// 100 ms each took 7 s of the real one.
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 2000, Symbols: []string{"BTCUSDT"}, Clock: clk,
		PingInterval: -1, MaxConnAge: -1, IncomingLimit: -1})
	defer v.Close()
	ctx := s29Ctx(t)
	msgs := s34simReader(ctx, t, dial(t, v.StreamURL("btcusdt@depth@100ms")))
	diff := func(b []byte) depthMsg {
		var d depthMsg
		require.NoError(t, json.Unmarshal(b, &d))
		return d
	}

	var buffered []depthMsg
	s39Drive(ctx, t, clk, 10*time.Millisecond, msgs, func(b []byte) { buffered = append(buffered, diff(b)) }, func() bool { return len(buffered) >= 20 })
	snap := getSnapshot(t, v, "BTCUSDT", 1000)
	book := map[bool]map[string]string{true: {}, false: {}}
	for _, l := range snap.Bids {
		book[true][l[0]] = l[1]
	}
	for _, l := range snap.Asks {
		book[false][l[0]] = l[1]
	}
	apply := func(d depthMsg) {
		for side, levels := range map[bool][][2]string{true: d.B, false: d.A} {
			for _, l := range levels {
				if l[1] == "0.00000000" {
					delete(book[side], l[0])
				} else {
					book[side][l[0]] = l[1]
				}
			}
		}
	}
	prev := uint64(0)
	applied := 0
	next := func(d depthMsg) {
		if d.LowU <= snap.LastUpdateID {
			return
		}
		if prev == 0 {
			require.LessOrEqual(t, d.U, snap.LastUpdateID+1, "first diff starts after the snapshot")
			require.GreaterOrEqual(t, d.LowU, snap.LastUpdateID+1)
		} else {
			require.Equal(t, prev+1, d.U, "diffs are contiguous")
		}
		prev = d.LowU
		apply(d)
		applied++
	}
	for _, d := range buffered {
		next(d)
	}
	s39Drive(ctx, t, clk, 10*time.Millisecond, msgs, func(b []byte) { next(diff(b)) }, func() bool { return applied >= 50 })
	// Hold the book still, drain to the snapshot's id, and compare.
	v.Pause(true)
	final := getSnapshot(t, v, "BTCUSDT", 1000)
	s39Drive(ctx, t, clk, 10*time.Millisecond, msgs, func(b []byte) { next(diff(b)) }, func() bool { return prev >= final.LastUpdateID })
	require.Equal(t, final.LastUpdateID, prev)
	want := map[bool]map[string]string{true: {}, false: {}}
	for _, l := range final.Bids {
		want[true][l[0]] = l[1]
	}
	for _, l := range final.Asks {
		want[false][l[0]] = l[1]
	}
	assert.Equal(t, want, book, "the book built from snapshot + diffs equals the venue's")
	bestBid, _ := strconv.ParseFloat(final.Bids[0][0], 64)
	bestAsk, _ := strconv.ParseFloat(final.Asks[0][0], 64)
	assert.Less(t, bestBid, bestAsk, "the book is not crossed")
}

func TestDepthGapFault(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 1000, Symbols: []string{"ETHUSDT"}})
	defer v.Close()
	// @depth@100ms: the diffs are batched per interval, and @depth's
	// second made this test's 55 diffs take a minute.
	c := dial(t, v.StreamURL("ethusdt@depth@100ms"))
	var prev uint64
	next := func() depthMsg {
		var d depthMsg
		require.NoError(t, json.Unmarshal(read(t, c), &d))
		return d
	}
	for i := 0; i < 5; i++ {
		d := next()
		if prev != 0 {
			require.Equal(t, prev+1, d.U, "diffs chain before the fault")
		}
		prev = d.LowU
	}
	v.Inject(venuesim.FaultDepthGap)
	// The diffs made before the fault may still be queued for this
	// connection (a starved reader can be up to SendQueue behind): read
	// until the gap, never past what the queue can hold.
	for i := 0; ; i++ {
		require.Less(t, i, 20000, "no gap after the fault")
		d := next()
		if d.U != prev+1 {
			assert.Equal(t, prev+6, d.U, "the fault skips five update ids")
			prev = d.LowU
			break
		}
		prev = d.LowU
	}
	for i := 0; i < 50; i++ {
		d := next()
		require.Equal(t, prev+1, d.U, "one fault, one gap: diffs chain again after it")
		prev = d.LowU
	}
}

// TestPauseHoldsStill: once Pause(true) returns, the market makes nothing
// more, so a snapshot taken then is the book the diff stream ends at. The
// rate is high enough that the generator is mostly inside a burst of
// messages when Pause is called (a burst that once ran on past it).
func TestPauseHoldsStill(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 100000, Symbols: []string{"BTCUSDT"}})
	defer v.Close()
	// @depth@100ms: Pause is the subject, not the cadence (@depth's
	// 1000 ms made the 10 rounds 10 s; s38sim).
	c := dial(t, v.StreamURL("btcusdt@depth@100ms"))
	// The connection is registered before its client holds the 101
	// (TestS27RegisteredBeforeTheClientHoldsTheUpgrade): every diff made
	// from here on is queued to it, with no wait for Stats.Active.
	for range 10 {
		made := v.Stats().Messages
		require.Eventually(t, func() bool { return v.Stats().Messages > made+100 }, 30*time.Second, time.Millisecond, "the market runs")
		v.Pause(true)
		made = v.Stats().Messages
		snap := getSnapshot(t, v, "BTCUSDT", 10)
		for {
			// The backlog of a 100,000 msg/s market can take the reader
			// seconds under -race and coverage on a loaded machine (it
			// once passed 5 s): a minute, the diffs are already queued.
			var d depthMsg
			require.NoError(t, json.Unmarshal(readWithin(t, c, time.Minute), &d))
			if d.LowU >= snap.LastUpdateID {
				require.Equal(t, snap.LastUpdateID, d.LowU, "the last diff queued is the snapshot's")
				break
			}
		}
		require.Equal(t, made, v.Stats().Messages, "nothing made after Pause(true) returned")
		v.Pause(false)
	}
}

func TestSubscribeProtocol(t *testing.T) {
	// Many requests in a row: the 5 a second limit is another test's.
	v := venuesim.Start(&venuesim.Options{Rate: 500, IncomingLimit: -1})
	defer v.Close()
	c := dial(t, v.StreamURL())
	write(t, c, `{"method":"SUBSCRIBE","params":["btcusdt@trade","ethusdt@bookTicker"],"id":1}`)
	assert.JSONEq(t, `{"result":null,"id":1}`, string(read(t, c)))
	write(t, c, `{"method":"LIST_SUBSCRIPTIONS","id":3}`)
	m := readUntil(t, c, func(m map[string]any) bool { return m["id"] != nil })
	assert.Equal(t, map[string]any{"result": []any{"btcusdt@trade", "ethusdt@bookTicker"}, "id": float64(3)}, m)

	// Raw streams deliver bare payloads of the subscribed streams.
	seen := map[string]bool{}
	for len(seen) < 2 {
		m := readUntil(t, c, func(map[string]any) bool { return true })
		if m["e"] == "trade" {
			assert.Equal(t, "BTCUSDT", m["s"])
			seen["trade"] = true
		} else {
			assert.Equal(t, "ETHUSDT", m["s"])
			assert.Contains(t, m, "u")
			seen["bookTicker"] = true
		}
	}
	write(t, c, `{"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":312}`)
	readUntil(t, c, func(m map[string]any) bool { return m["id"] == float64(312) && m["result"] == nil })
	write(t, c, `{"method":"LIST_SUBSCRIPTIONS","id":4}`)
	m = readUntil(t, c, func(m map[string]any) bool { return m["id"] == float64(4) })
	assert.Equal(t, []any{"ethusdt@bookTicker"}, m["result"])

	errs := []struct{ req, want string }{
		{`{"method":"SUBSCRIB","params":[],"id":5}`, `{"error":{"code":2,"msg":"Invalid request: unknown variant ` + "`SUBSCRIB`" + `, expected one of ` + "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`" + ` at line 1 column 28"},"id":5}`},
		{`{"method":"SUBSCRIBE","params":["btcusdt@nosuch"],"id":6}`, `{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":6}`},
		{`{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":"x y"}`, `{"error":{"code":2,"msg":"Invalid request: request ID must be an unsigned integer"},"id":null}`},
		{`{"method":"SET_PROPERTY","params":["combined","yes"],"id":7}`, `{"error":{"code":1,"msg":"Invalid value type: expected Boolean"},"id":7}`},
		{`{"method":"GET_PROPERTY","params":["colour"],"id":8}`, `{"error":{"code":0,"msg":"Unknown property"},"id":8}`},
		{`not json`, `{"error":{"code":3,"msg":"Invalid JSON: expected value at line 1 column 1"},"id":null}`},
	}
	for _, e := range errs {
		write(t, c, e.req)
		m := readUntil(t, c, func(m map[string]any) bool { return m["error"] != nil })
		b, _ := json.Marshal(m)
		assert.JSONEq(t, e.want, string(b), e.req)
	}
	write(t, c, `{"method":"SET_PROPERTY","params":["combined",true],"id":9}`)
	readUntil(t, c, func(m map[string]any) bool { return m["id"] == float64(9) })
	write(t, c, `{"method":"GET_PROPERTY","params":["combined"],"id":10}`)
	m = readUntil(t, c, func(m map[string]any) bool { return m["id"] == float64(10) })
	assert.Equal(t, true, m["result"])
	m = readUntil(t, c, func(m map[string]any) bool { return m["stream"] != nil })
	assert.Equal(t, "ethusdt@bookTicker", m["stream"], "combined mode wraps payloads")
}

func TestCombinedStreams(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 2000})
	defer v.Close()
	streams := []string{"btcusdt@aggTrade", "ethusdt@depth@100ms", "btcusdt@kline_1s", "ethusdt@bookTicker"}
	c := dial(t, v.StreamURL(streams...))
	seen := map[string]bool{}
	for len(seen) < len(streams) {
		var env struct {
			Stream string          `json:"stream"`
			Data   json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(read(t, c), &env))
		require.Contains(t, streams, env.Stream)
		require.NotEmpty(t, env.Data)
		seen[env.Stream] = true
	}
}

// keys returns the top-level keys of a JSON object (and of "k", "o" and
// "event" sub-objects, prefixed).
func keys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &m))
	var out []string
	for k, v := range m {
		out = append(out, k)
		if k == "k" || k == "event" || k == "data" {
			for _, sub := range keys(t, v) {
				out = append(out, k+"."+sub)
			}
		}
	}
	slices.Sort(out)
	return out
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "venues", name))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("testdata/venues is absent")
	}
	require.NoError(t, err)
	return b
}

// TestShapesMatchRealMessages compares the keys of what the simulator sends
// with the real Binance messages in testdata/venues.
func TestShapesMatchRealMessages(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 3000, Symbols: []string{"BTCUSDT"}})
	defer v.Close()
	cases := []struct{ stream, sample string }{
		{"btcusdt@aggTrade", "binance_combined_aggTrade.json"},
		{"btcusdt@bookTicker", "binance_combined_bookTicker.json"},
		{"btcusdt@depth@100ms", "binance_combined_depthUpdate.json"},
		{"btcusdt@kline_1m", "binance_combined_kline.json"},
	}
	for _, tc := range cases {
		t.Run(tc.stream, func(t *testing.T) {
			want := keys(t, sample(t, tc.sample))
			c := dial(t, v.StreamURL(tc.stream, "btcusdt@trade"))
			for {
				msg := read(t, c)
				var env struct{ Stream string }
				require.NoError(t, json.Unmarshal(msg, &env))
				if env.Stream == tc.stream {
					assert.Equal(t, want, keys(t, msg))
					return
				}
			}
		})
	}
	t.Run("trade", func(t *testing.T) {
		want := keys(t, sample(t, "binance_combined_trade.json"))
		// Binance has since dropped the buyer and seller order ids.
		want = slices.DeleteFunc(want, func(k string) bool { return k == "data.a" || k == "data.b" })
		c := dial(t, v.StreamURL("btcusdt@trade", "btcusdt@depth"))
		for {
			msg := read(t, c)
			var env struct{ Stream string }
			require.NoError(t, json.Unmarshal(msg, &env))
			if env.Stream == "btcusdt@trade" {
				assert.Equal(t, want, keys(t, msg))
				return
			}
		}
	})
	t.Run("depth snapshot", func(t *testing.T) {
		want := keys(t, sample(t, "binance_depth_snapshot.json"))
		resp, err := http.Get(v.RESTURL() + "/api/v3/depth?symbol=BTCUSDT")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		assert.Equal(t, want, keys(t, body))
	})
	t.Run("executionReport", func(t *testing.T) {
		want := keys(t, sample(t, "binance_spot_executionReport_wrapped.json"))
		c := dial(t, v.APIURL())
		write(t, c, `{"id":1,"method":"userDataStream.subscribe"}`)
		read(t, c)
		write(t, c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"1000.00","quantity":"0.01","newClientOrderId":"c1","timestamp":1}}`)
		for {
			msg := read(t, c)
			if json.Valid(msg) && string(msg[:16]) == `{"subscriptionId` {
				assert.Equal(t, want, keys(t, msg))
				return
			}
		}
	})
}
