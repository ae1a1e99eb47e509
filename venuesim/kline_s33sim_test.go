package venuesim_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// s33simIntervals are Binance's kline intervals (spot "WebSocket Streams",
// "Kline/Candlestick chart intervals").
var s33simIntervals = []string{"1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"}

const s33simWait = 60 * time.Second

// s33simDial dials url with a generous deadline for a loaded machine.
func s33simDial(t *testing.T, url string) (*websocket.Conn, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*s33simWait)
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, url, nil)
	require.NoError(t, err)
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c, ctx
}

// s33simCombined is a combined-stream message, or an answer.
type s33simCombined struct {
	Stream string `json:"stream"`
	Data   struct {
		Event string `json:"e"`
		Time  int64  `json:"E"`
		K     struct {
			Start    int64  `json:"t"`
			End      int64  `json:"T"`
			Symbol   string `json:"s"`
			Interval string `json:"i"`
			Closed   bool   `json:"x"`
		} `json:"k"`
	} `json:"data"`
	ID    *json.RawMessage `json:"id"`
	Error *struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"error"`
}

func s33simRead(ctx context.Context, t *testing.T, c *websocket.Conn) s33simCombined {
	t.Helper()
	_, b, err := c.Read(ctx)
	require.NoError(t, err)
	var m s33simCombined
	require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	return m
}

// s33simBounds is the candle of interval holding ms in loc, reckoned with
// the time package, apart from the venue's arithmetic: days, weeks (from
// Monday) and months (from the 1st) of loc's calendar; 3d every third day
// from the Unix epoch's day (Binance does not document where 3d opens).
func s33simBounds(interval string, loc *time.Location, ms int64) (start, end int64) {
	at := time.UnixMilli(ms).In(loc)
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, loc)
	var from, to time.Time
	switch interval {
	case "1M":
		from = time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, loc)
		to = from.AddDate(0, 1, 0)
	case "1w":
		from = day.AddDate(0, 0, -((int(at.Weekday()) + 6) % 7))
		to = from.AddDate(0, 0, 7)
	case "3d":
		_, off := at.Zone()
		days := (ms + int64(off)*1000) / (24 * 3600 * 1000)
		from = day.AddDate(0, 0, -int(days%3))
		to = from.AddDate(0, 0, 3)
	case "1d":
		from, to = day, day.AddDate(0, 0, 1)
	default:
		n, err := time.ParseDuration(interval)
		if err != nil { // "1s" … "12h" parse; nothing else comes here
			panic(err)
		}
		from = day.Add(at.Sub(day) / n * n)
		to = from.Add(n)
	}
	return from.UnixMilli(), to.UnixMilli() - 1
}

// Binance serves a kline stream of every interval of "Kline/Candlestick
// chart intervals", in UTC (<symbol>@kline_<interval>) and in UTC+8
// (<symbol>@kline_<interval>@+08:00: "Kline intervals open and close in
// the UTC+8 timezone", while "E, t and T ... are always interpreted in
// UTC"); the simulator served kline_1s and kline_1m only and refused any
// other as an invalid stream, the whole SUBSCRIBE with it. All 32 are
// subscribed in one request, each delivers its candles, named with the
// bare interval in "i", whose open and close time are the interval's in
// its zone: an open candle (x=false) holds its event time.
func TestS33simKlineEveryInterval(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000, PingInterval: -1})
	defer v.Close()
	c, ctx := s33simDial(t, v.CombinedURL())
	zones := map[string]*time.Location{"": time.UTC, "@+08:00": time.FixedZone("UTC+8", 8*3600)}
	var names []string
	for _, iv := range s33simIntervals {
		for suffix := range zones {
			names = append(names, "btcusdt@kline_"+iv+suffix)
		}
	}
	req, err := json.Marshal(map[string]any{"method": "SUBSCRIBE", "params": names, "id": 1})
	require.NoError(t, err)
	require.NoError(t, c.Write(ctx, websocket.MessageText, req))
	m := s33simRead(ctx, t, c)
	require.Nil(t, m.Error, "the SUBSCRIBE of every interval refused")
	require.NotNil(t, m.ID)
	open := map[string]bool{}
	for len(open) < len(names) {
		m := s33simRead(ctx, t, c)
		require.True(t, strings.HasPrefix(m.Stream, "btcusdt@kline_"), "%+v", m)
		iv, suffix, _ := strings.Cut(strings.TrimPrefix(m.Stream, "btcusdt@kline_"), "@")
		if suffix != "" {
			suffix = "@" + suffix
		}
		k := m.Data.K
		require.Equal(t, "kline", m.Data.Event)
		require.Equal(t, iv, k.Interval, "%s: i is the bare interval", m.Stream)
		require.Equal(t, "BTCUSDT", k.Symbol)
		if k.Closed && iv == "1s" {
			// The 1s streams send each second closed, at the first
			// push past its end (s34sim: Binance's 1s pushes come
			// x=true).
			require.Less(t, k.End, m.Data.Time, m.Stream)
			start, end := s33simBounds(iv, zones[suffix], k.Start)
			require.Equal(t, [2]int64{start, end}, [2]int64{k.Start, k.End}, m.Stream)
			open[m.Stream] = true
			continue
		}
		if k.Closed {
			continue
		}
		start, end := s33simBounds(iv, zones[suffix], m.Data.Time)
		require.Equal(t, start, k.Start, "%s at %d: open time", m.Stream, m.Data.Time)
		require.Equal(t, end, k.End, "%s at %d: close time", m.Stream, m.Data.Time)
		open[m.Stream] = true
	}
}

// A name of no interval Binance lists, or of another zone than UTC+8 (the
// only offset "Kline/Candlestick Streams with timezone offset" names), is
// not well formed: "Invalid request: invalid stream", code 2.
func TestS33simKlineUnknownIntervalRefused(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 10, PingInterval: -1})
	defer v.Close()
	c, ctx := s33simDial(t, v.StreamURL())
	for i, name := range []string{"btcusdt@kline_2m", "btcusdt@kline_1M@+09:00", "btcusdt@kline_1m@", "btcusdt@kline_", "btcusdt@kline_1d@+08:00@+08:00"} {
		id := i + 1
		req := `{"method":"SUBSCRIBE","params":["` + name + `"],"id":` + strconv.Itoa(id) + `}`
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(req)))
		m := s33simRead(ctx, t, c)
		require.NotNil(t, m.Error, name)
		assert.Equal(t, 2, m.Error.Code, name)
		assert.Equal(t, "Invalid request: invalid stream", m.Error.Msg, name)
		// Past IncomingLimit (5 a second) the connection would be cut:
		// one request a message read, and the fifth gets a new one.
		if id%4 == 0 {
			c, ctx = s33simDial(t, v.StreamURL())
		}
	}
}

// UNSUBSCRIBE stops a kline stream: after its answer no candle of it comes
// (the answer is queued once the stream is off, behind what was queued
// before), while the connection's trades go on.
func TestS33simKlineUnsubscribeStops(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000, PingInterval: -1})
	defer v.Close()
	c, ctx := s33simDial(t, v.StreamURL("btcusdt@kline_5m", "btcusdt@trade"))
	for {
		if m := s33simRead(ctx, t, c); m.Stream == "btcusdt@kline_5m" {
			break
		}
	}
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"method":"UNSUBSCRIBE","params":["btcusdt@kline_5m"],"id":7}`)))
	for {
		m := s33simRead(ctx, t, c)
		if m.ID != nil {
			require.Nil(t, m.Error)
			break
		}
	}
	for range 500 {
		m := s33simRead(ctx, t, c)
		require.Equal(t, "btcusdt@trade", m.Stream, "only trades after the UNSUBSCRIBE's answer")
	}
}

// Binance serves partial book depth ("Partial Book Depth Streams":
// <symbol>@depth<levels> or @depth<levels>@100ms, "Valid <levels> are 5,
// 10, or 20", payload {"lastUpdateId","bids","asks"}); the simulator
// refused them as invalid streams, the whole SUBSCRIBE with them. Each
// delivers the top <levels> of each side, best first, the update id
// rising; depth7 is no stream.
func TestS33simPartialDepth(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000, PingInterval: -1})
	defer v.Close()
	c, ctx := s33simDial(t, v.CombinedURL())
	names := []string{"btcusdt@depth5", "btcusdt@depth10@100ms", "btcusdt@depth20", "btcusdt@depth20@100ms"}
	req, err := json.Marshal(map[string]any{"method": "SUBSCRIBE", "params": names, "id": 1})
	require.NoError(t, err)
	require.NoError(t, c.Write(ctx, websocket.MessageText, req))
	type book struct {
		Stream string `json:"stream"`
		Data   struct {
			LastUpdateID uint64      `json:"lastUpdateId"`
			Bids         [][2]string `json:"bids"`
			Asks         [][2]string `json:"asks"`
		} `json:"data"`
		Error any `json:"error"`
	}
	read := func() book {
		_, b, err := c.Read(ctx)
		require.NoError(t, err)
		var m book
		require.NoError(t, json.Unmarshal(b, &m), "%s", b)
		return m
	}
	require.Nil(t, read().Error, "the SUBSCRIBE of partial depth refused")
	last := map[string]uint64{}
	// Until each stream has pushed twice (its update id rising): 200
	// pushes were 10 s of the 1000 ms and 100 ms cadences, which are
	// not the subject (s38sim).
	seen := map[string]int{}
	for done := 0; done < len(names); {
		m := read()
		if seen[m.Stream]++; seen[m.Stream] == 2 {
			done++
		}
		levels, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(m.Stream, "btcusdt@depth"), "@100ms"))
		require.NoError(t, err, m.Stream)
		require.Len(t, m.Data.Bids, levels, m.Stream)
		require.Len(t, m.Data.Asks, levels, m.Stream)
		for i := 1; i < levels; i++ {
			assert.Less(t, s33simPrice(t, m.Data.Bids[i][0]), s33simPrice(t, m.Data.Bids[i-1][0]), "bids best first")
			assert.Greater(t, s33simPrice(t, m.Data.Asks[i][0]), s33simPrice(t, m.Data.Asks[i-1][0]), "asks best first")
		}
		assert.Less(t, s33simPrice(t, m.Data.Bids[0][0]), s33simPrice(t, m.Data.Asks[0][0]), "not crossed")
		assert.Greater(t, m.Data.LastUpdateID, last[m.Stream], "%s: the update id rises", m.Stream)
		last[m.Stream] = m.Data.LastUpdateID
	}
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"method":"SUBSCRIBE","params":["btcusdt@depth7"],"id":2}`)))
	for {
		if m := read(); m.Error != nil {
			break
		}
	}
}

func s33simPrice(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err)
	return f
}

// Binance serves each symbol's 24 h ticker and mini ticker ("Individual
// Symbol Ticker Streams", <symbol>@ticker, e 24hrTicker; "Individual
// Symbol Mini Ticker Stream", <symbol>@miniTicker, e 24hrMiniTicker); the
// simulator refused them as invalid streams, the whole SUBSCRIBE with
// them. Each follows the trades: its last price is the trade's before it
// on the connection, high ≥ last, open ≥ low, volume rising, and the
// ticker counts its trades (n = L - F + 1) from its open time on.
func TestS33simTickers(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000, PingInterval: -1})
	defer v.Close()
	c, ctx := s33simDial(t, v.CombinedURL())
	require.NoError(t, c.Write(ctx, websocket.MessageText,
		[]byte(`{"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@ticker","btcusdt@miniTicker"],"id":1}`)))
	type msg struct {
		Stream string `json:"stream"`
		Data   struct {
			Event    string `json:"e"`
			Price    string `json:"p"`
			Last     string `json:"c"`
			Open     string `json:"o"`
			High     string `json:"h"`
			Low      string `json:"l"`
			Volume   string `json:"v"`
			First    int64  `json:"F"`
			LastID   int64  `json:"L"`
			Count    int64  `json:"n"`
			OpenTime int64  `json:"O"`
			Time     int64  `json:"E"`
			// goccy's v1 API matches names without case: each upper
			// case field beside its lower case one, or it fills that.
			CloseTime int64  `json:"C"`
			ChangePct string `json:"P"`
		} `json:"data"`
		Error any `json:"error"`
	}
	read := func() msg {
		_, b, err := c.Read(ctx)
		require.NoError(t, err)
		var m msg
		require.NoError(t, json.Unmarshal(b, &m), "%s", b)
		return m
	}
	require.Nil(t, read().Error, "the SUBSCRIBE of the tickers refused")
	var lastTrade string
	volume := map[string]float64{}
	seen := map[string]int{}
	for seen["btcusdt@ticker"] < 3 || seen["btcusdt@miniTicker"] < 3 { // one a second each (s36: "Update Speed: 1000ms")
		m := read()
		d := m.Data
		switch m.Stream {
		case "btcusdt@trade":
			lastTrade = d.Price
			continue
		case "btcusdt@ticker":
			require.Equal(t, "24hrTicker", d.Event)
			assert.Equal(t, d.LastID-d.First+1, d.Count, "n = L - F + 1")
			assert.LessOrEqual(t, d.OpenTime, d.Time)
		case "btcusdt@miniTicker":
			require.Equal(t, "24hrMiniTicker", d.Event)
		default:
			t.Fatalf("unexpected %+v", m)
		}
		seen[m.Stream]++
		require.NotEmpty(t, lastTrade, "%s before any trade", m.Stream)
		assert.Equal(t, lastTrade, d.Last, "%s: last price is the last trade's", m.Stream)
		last, hi, lo, open := s33simPrice(t, d.Last), s33simPrice(t, d.High), s33simPrice(t, d.Low), s33simPrice(t, d.Open)
		assert.True(t, lo <= last && last <= hi && lo <= open && open <= hi, "%s: o %v h %v l %v c %v", m.Stream, open, hi, lo, last)
		vol := s33simPrice(t, d.Volume)
		assert.Greater(t, vol, volume[m.Stream], "%s: volume rises", m.Stream)
		volume[m.Stream] = vol
	}
}
