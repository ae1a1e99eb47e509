package venuesim_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"

	json "github.com/goccy/go-json/v2" // case-sensitive: "e" is not "E"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

type klineEvent struct {
	E int64 `json:"E"`
	K struct {
		Start    int64  `json:"t"`
		End      int64  `json:"T"`
		Interval string `json:"i"`
		First    int64  `json:"f"`
		Last     int64  `json:"L"`
		Open     string `json:"o"`
		Close    string `json:"c"`
		Volume   string `json:"v"`
		Trades   int64  `json:"n"`
		Closed   bool   `json:"x"`
	} `json:"k"`
}

// Binance's kline streams ("Kline/Candlestick Streams"): a candle covers
// its whole interval — t on the interval's boundary, T = t + interval − 1
// — and accumulates every trade in it, so within one candle the open and
// the first trade id stay, the trade count and the volume never go back;
// a 1m candle is not a 1s one restarted every second. Every candle's
// last update is its closed one (x=true), before the next candle's first.
func TestAdv2KlinesCoverTheirInterval(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000})
	defer v.Close()
	c := dial(t, v.StreamURL("btcusdt@kline_1m", "btcusdt@kline_1s"))
	lengths := map[string]int64{"1s": 1000, "1m": 60000}
	last := map[string]klineEvent{}
	firstSeen := map[string]int64{} // interval and start → E of the candle's first update
	spanned := false                // a 1m candle followed for over a second
	for i := 0; i < 20000 && !spanned; i++ {
		var msg struct {
			Data klineEvent `json:"data"`
		}
		require.NoError(t, json.Unmarshal(read(t, c), &msg))
		ev := msg.Data
		k := ev.K
		n, ok := lengths[k.Interval]
		require.True(t, ok, "interval %q", k.Interval)
		require.Zero(t, k.Start%n, "%s candle starts on its boundary: %d", k.Interval, k.Start)
		require.Equal(t, k.Start+n-1, k.End, k.Interval)
		require.LessOrEqual(t, k.First, k.Last)
		key := k.Interval + "@" + strconv.FormatInt(k.Start, 10)
		if p, ok := last[k.Interval]; ok && p.K.Start == k.Start {
			require.False(t, p.K.Closed, "%s updated after it closed", key)
			require.Equal(t, p.K.Open, k.Open, "%s: its open stays", key)
			require.Equal(t, p.K.First, k.First, "%s: its first trade stays", key)
			require.GreaterOrEqual(t, k.Trades, p.K.Trades, "%s: trades %d after %d", key, k.Trades, p.K.Trades)
			require.GreaterOrEqual(t, dec(t, k.Volume), dec(t, p.K.Volume), "%s: volume", key)
			spanned = k.Interval == "1m" && ev.E-firstSeen[key] >= 1500
		} else {
			if ok {
				require.True(t, p.K.Closed, "%s began before %s@%d went out closed", key, k.Interval, p.K.Start)
				require.Greater(t, k.Start, p.K.Start, "candles in time order")
			}
			firstSeen[key] = ev.E
		}
		last[k.Interval] = ev
	}
	assert.True(t, spanned, "a 1m candle was followed across seconds")
}

func dec(t *testing.T, s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err)
	return f
}

// Binance's market streams take at most 5 incoming messages a second on a
// connection ("WebSocket Limits": a connection that goes beyond is
// disconnected), which is why wsclient paces its subscriptions. A client
// that sends 30 control messages back to back is cut (close code 1008),
// as on Binance, instead of being served, so a bot that would be cut on the
// venue is cut in its tests too.
func TestAdv2IncomingMessageLimit(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 50})
	defer v.Close()
	c := dial(t, v.URL()+"/ws")
	for i := range 30 {
		if err := c.Write(context.Background(), websocket.MessageText, []byte(`{"method":"LIST_SUBSCRIPTIONS","id":`+strconv.Itoa(i+1)+`}`)); err != nil {
			break // already cut
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answered := 0
	for {
		_, _, err := c.Read(ctx)
		if err != nil {
			assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err), "cut for too many messages: %v", err)
			break
		}
		answered++
	}
	assert.LessOrEqual(t, answered, 5, "no more than five in the second were served")
	assert.Equal(t, uint64(1), v.Stats().TooManyMessages)
}
