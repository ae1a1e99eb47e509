package venuesim_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// s34simMsg is a combined-stream message: a trade's price, a kline's
// candle or an array of tickers.
type s34simMsg struct {
	Stream string          `json:"stream"`
	Data   json.RawMessage `json:"data"`
	Raw    []byte          `json:"-"` // the whole message (answers have no data)
}

type s34simEvent struct {
	Event  string
	Time   int64
	Symbol string
	Price  string
	K      struct {
		Start, End             int64
		Interval               string
		First, Last            int64
		Open, Close, High, Low string
		Volume                 string
		Trades                 int64
		Closed                 bool
	}
}

// UnmarshalJSON takes the event's fields by Binance's one-letter names.
func (e *s34simEvent) UnmarshalJSON(b []byte) error {
	var raw struct {
		Event  string `json:"e"`
		Time   int64  `json:"E"`
		Symbol string `json:"s"`
		Price  string `json:"p"`
		K      *struct {
			T1 int64  `json:"t"`
			T2 int64  `json:"T"`
			I  string `json:"i"`
			F  int64  `json:"f"`
			L  int64  `json:"L"`
			O  string `json:"o"`
			C  string `json:"c"`
			H  string `json:"h"`
			Lo string `json:"l"`
			V  string `json:"v"`
			N  int64  `json:"n"`
			X  bool   `json:"x"`
		} `json:"k"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	e.Event, e.Time, e.Symbol, e.Price = raw.Event, raw.Time, raw.Symbol, raw.Price
	if k := raw.K; k != nil {
		e.K.Start, e.K.End, e.K.Interval, e.K.First, e.K.Last = k.T1, k.T2, k.I, k.F, k.L
		e.K.Open, e.K.Close, e.K.High, e.K.Low, e.K.Volume = k.O, k.C, k.H, k.Lo, k.V
		e.K.Trades, e.K.Closed = k.N, k.X
	}
	return nil
}

// s34simReader reads c's messages onto a channel until the connection ends.
func s34simReader(ctx context.Context, t *testing.T, c *websocket.Conn) <-chan s34simMsg {
	t.Helper()
	out := make(chan s34simMsg, 1<<16)
	go func() {
		defer close(out)
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			m := s34simMsg{Raw: b}
			if json.Unmarshal(b, &m) == nil {
				out <- m
			}
		}
	}()
	return out
}

// s34simNext is the next message, or the test fails after a generous wait.
func s34simNext(t *testing.T, msgs <-chan s34simMsg) s34simMsg {
	t.Helper()
	select {
	case m, ok := <-msgs:
		require.True(t, ok, "the connection ended")
		return m
	case <-time.After(s33simWait):
		require.FailNow(t, "no message")
	}
	return s34simMsg{}
}

// s34simT0 is the fake clock's start: a minute's.
var s34simT0 = time.Date(2031, 3, 4, 5, 6, 0, 0, time.UTC)

// s34simStart starts a venue of symbols on a fake clock at s34simT0, with
// no server pings, age cut or incoming limit, closed at the test's end.
func s34simStart(t *testing.T, symbols ...string) (*venuesim.Venue, *s29Clock) {
	t.Helper()
	clk := newS29Clock(s34simT0)
	v := venuesim.Start(&venuesim.Options{Symbols: symbols, Rate: 10000, PingInterval: -1, MaxConnAge: -1,
		IncomingLimit: -1, Clock: clk})
	t.Cleanup(v.Close)
	return v, clk
}

// s34simSubscribe subscribes c to names, sorted, and returns once they
// are on: a SUBSCRIBE's streams are switched on before the
// LIST_SUBSCRIPTIONS after it is answered.
func s34simSubscribe(ctx context.Context, t *testing.T, c *websocket.Conn, msgs <-chan s34simMsg, names ...string) {
	t.Helper()
	req, err := json.Marshal(map[string]any{"method": "SUBSCRIBE", "params": names, "id": 1})
	require.NoError(t, err)
	require.NoError(t, c.Write(ctx, websocket.MessageText, req))
	require.JSONEq(t, `{"result":null,"id":1}`, string(s34simNext(t, msgs).Raw), "subscribed")
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"method":"LIST_SUBSCRIPTIONS","id":2}`)))
	list, err := json.Marshal(map[string]any{"result": names, "id": 2})
	require.NoError(t, err)
	require.JSONEq(t, string(list), string(s34simNext(t, msgs).Raw))
}

// s34simDecode decodes an event; an array's is "array".
func s34simDecode(t *testing.T, m s34simMsg) s34simEvent {
	t.Helper()
	if len(m.Data) > 0 && m.Data[0] == '[' {
		return s34simEvent{Event: "array"}
	}
	var e s34simEvent
	require.NoError(t, json.Unmarshal(m.Data, &e), "%s", m.Data)
	return e
}

// s34simTradedThenPaused drives a fake-clock venue a millisecond at a
// time until the connection has seen a trade made after its streams were
// all on (a later millisecond than the first trade it saw), and pauses
// the market. Each trade it reads sets its symbol's last price in last
// (the caller reads the rest: the trades queued before Pause come before
// any push of the next tick).
func s34simTradedThenPaused(t *testing.T, v *venuesim.Venue, clk *s29Clock, msgs <-chan s34simMsg, last map[string]string) {
	t.Helper()
	var firstMs int64
	for seen := false; !seen; {
		clk.waitSleeping(t, time.Millisecond, 1) // the generator is armed
		clk.Advance(time.Millisecond)
		for drained := false; !drained; {
			select {
			case m := <-msgs:
				e := s34simDecode(t, m)
				if e.Event != "trade" {
					continue
				}
				last[e.Symbol] = e.Price
				if firstMs == 0 {
					firstMs = e.Time
				} else if e.Time > firstMs {
					seen = true
				}
			default:
				drained = true
			}
		}
	}
	v.Pause(true)
}

// Binance pushes a kline stream on its own clock, "Update Speed: 1000ms
// for 1s, 2000ms for the other intervals" (spot "WebSocket Streams",
// "Kline/Candlestick Streams"), whether or not a trade happened, and
// closes each candle (x=true) at its interval's end; a candle with no
// trade opens, closes, highs and lows at the previous close, with volume
// 0, no trades and first and last trade ids -1 (as Binance's 1s stream
// sends it: {"f":-1,"L":-1,"o":"1870.76000000","c":"1870.76000000",…,
// "v":"0.00000000","n":0,"x":true}). The simulator pushed a symbol's
// candles only among its market messages, never for an interval with no
// trade: a subscriber of a quiet market was never told its minute had
// closed. With the market paused (no trade), the clock moved from tick
// to tick: the 1s stream closes each second, the 1m stream pushes its
// open candle every 2 s and closes the minute at its end, empty minutes
// included.
func TestS34simKlineCadenceWithoutTrades(t *testing.T) {
	t0 := s34simT0
	v, clk := s34simStart(t, "BTCUSDT")
	c, ctx := s33simDial(t, v.StreamURL("btcusdt@trade", "btcusdt@kline_1s", "btcusdt@kline_1m"))
	msgs := s34simReader(ctx, t, c)
	last := map[string]string{}
	s34simTradedThenPaused(t, v, clk, msgs, last)
	price := last["BTCUSDT"]
	ms := func(d time.Duration) int64 { return t0.Add(d).UnixMilli() }
	// advanceTo moves the clock to t0+d, the generator armed, and
	// returns the n kline events it pushes, by stream (trades queued
	// before Pause are skipped).
	advanceTo := func(d time.Duration, n int) map[string]s34simEvent {
		t.Helper()
		clk.waitSleeping(t, time.Millisecond, 1)
		clk.Advance(t0.Add(d).Sub(clk.Now()))
		got := map[string]s34simEvent{}
		for len(got) < n {
			m := s34simNext(t, msgs)
			e := s34simDecode(t, m)
			if e.Event == "trade" {
				price = e.Price
				continue
			}
			require.Equal(t, "kline", e.Event, "%s", m.Data)
			require.NotContains(t, got, m.Stream, "one push a stream a tick")
			assert.Equal(t, ms(d), e.Time, "%s: pushed at the tick", m.Stream)
			got[m.Stream] = e
		}
		return got
	}
	// empty checks a candle with no trade: O=H=L=C the previous close.
	empty := func(e s34simEvent, start, end int64, closed bool) {
		t.Helper()
		assert.Equal(t, start, e.K.Start)
		assert.Equal(t, end, e.K.End)
		assert.Equal(t, closed, e.K.Closed)
		assert.Equal(t, [4]string{price, price, price, price}, [4]string{e.K.Open, e.K.High, e.K.Low, e.K.Close})
		assert.Equal(t, "0.00000000", e.K.Volume)
		assert.Zero(t, e.K.Trades)
		assert.Equal(t, [2]int64{-1, -1}, [2]int64{e.K.First, e.K.Last})
	}

	// 1 s: the 1s candle of the traded second closes; 1m waits for 2 s.
	got := advanceTo(time.Second, 1)
	k := got["btcusdt@kline_1s"]
	assert.True(t, k.K.Closed)
	assert.Equal(t, [2]int64{ms(0), ms(time.Second) - 1}, [2]int64{k.K.Start, k.K.End})
	assert.Equal(t, price, k.K.Close)
	assert.Positive(t, k.K.Trades)
	// 2 s: an empty second closes; the minute is open, with its trades.
	got = advanceTo(2*time.Second, 2)
	empty(got["btcusdt@kline_1s"], ms(time.Second), ms(2*time.Second)-1, true)
	k = got["btcusdt@kline_1m"]
	assert.False(t, k.K.Closed)
	assert.Equal(t, [2]int64{ms(0), ms(time.Minute) - 1}, [2]int64{k.K.Start, k.K.End})
	assert.Equal(t, price, k.K.Close)
	assert.Positive(t, k.K.Trades)
	// 1 min: the traded minute closes at its end.
	got = advanceTo(time.Minute, 2)
	k = got["btcusdt@kline_1m"]
	assert.True(t, k.K.Closed)
	assert.Equal(t, ms(0), k.K.Start)
	assert.Equal(t, price, k.K.Close)
	// 1 min 2 s: the next minute, with no trade, is open at the close.
	got = advanceTo(time.Minute+2*time.Second, 2)
	empty(got["btcusdt@kline_1m"], ms(time.Minute), ms(2*time.Minute)-1, false)
	empty(got["btcusdt@kline_1s"], ms(time.Minute), ms(time.Minute+time.Second)-1, true)
	// 2 min: the empty minute closes at its end too.
	got = advanceTo(2*time.Minute, 2)
	empty(got["btcusdt@kline_1m"], ms(time.Minute), ms(2*time.Minute)-1, true)
}
