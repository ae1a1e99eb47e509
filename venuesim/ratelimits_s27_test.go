package venuesim_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

type limitAnswer struct {
	ID     any `json:"id"`
	Status int `json:"status"`
	Error  struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
		Data struct {
			ServerTime int64 `json:"serverTime"`
			RetryAfter int64 `json:"retryAfter"`
		} `json:"data"`
	} `json:"error"`
	RateLimits []struct {
		Type     string `json:"rateLimitType"`
		Interval string `json:"interval"`
		Num      int    `json:"intervalNum"`
		Limit    int64  `json:"limit"`
		Count    int64  `json:"count"`
	} `json:"rateLimits"`
}

func (a limitAnswer) count(typ, interval string) int64 {
	for _, l := range a.RateLimits {
		if l.Type == typ && l.Interval == interval {
			return l.Count
		}
	}
	return -1
}

// askUntilRefused sends request(i) for i = 1.. until one is refused, at
// most most times, and returns the last accepted answer and the refusal.
func askUntilRefused(t *testing.T, v *venuesim.Venue, most int, request func(i int) string) (last, refusal limitAnswer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, v.APIURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	for i := 1; i <= most; i++ {
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(request(i))))
		for {
			_, msg, err := c.Read(ctx)
			require.NoError(t, err)
			var a limitAnswer
			require.NoError(t, json.Unmarshal(msg, &a), "%s", msg)
			if a.Status == 0 {
				continue // a user-data event
			}
			if a.Status != 200 {
				return last, a
			}
			last = a
			break
		}
	}
	require.FailNow(t, "never refused")
	return
}

// Binance WebSocket API "Rate limits": past REQUEST_WEIGHT (6000 a
// minute) a request is refused with 429 and -1003, error.data saying when
// to retry; past ORDERS (50 orders in 10 s) an order.place is refused
// with 429 and -1015. With Options.EnforceRateLimits the venue refuses as
// its answers' rateLimits say; the counts are read from the answers, so a
// minute or 10 s boundary passed meanwhile does not matter.
func TestS27EnforceRateLimits(t *testing.T) {
	t.Run("weight", func(t *testing.T) {
		v := venuesim.Start(&venuesim.Options{Rate: 1, EnforceRateLimits: true})
		defer v.Close()
		// openOrders.status of every symbol weighs 80: 75 of them fill
		// the minute's 6000.
		last, refusal := askUntilRefused(t, v, 1000, func(i int) string {
			return fmt.Sprintf(`{"id":%d,"method":"openOrders.status","params":{"timestamp":1}}`, i)
		})
		assert.Equal(t, 429, refusal.Status)
		assert.Equal(t, -1003, refusal.Error.Code)
		assert.Greater(t, refusal.count("REQUEST_WEIGHT", "MINUTE"), int64(6000), "refused past the limit")
		assert.LessOrEqual(t, last.count("REQUEST_WEIGHT", "MINUTE"), int64(6000), "accepted within it")
		assert.Greater(t, refusal.Error.Data.RetryAfter, refusal.Error.Data.ServerTime)
		assert.Zero(t, refusal.Error.Data.RetryAfter%60000, "the next minute")
	})
	t.Run("orders", func(t *testing.T) {
		v := venuesim.Start(&venuesim.Options{Rate: 1, EnforceRateLimits: true})
		defer v.Close()
		last, refusal := askUntilRefused(t, v, 1000, func(i int) string {
			return fmt.Sprintf(`{"id":%d,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","newClientOrderId":"o%d","timestamp":1}}`, i, i)
		})
		assert.Equal(t, 429, refusal.Status)
		assert.Equal(t, -1015, refusal.Error.Code)
		assert.Contains(t, refusal.Error.Msg, "Too many new orders")
		assert.Equal(t, int64(50), refusal.count("ORDERS", "SECOND"), "refused with 50 orders in the 10 s")
		assert.LessOrEqual(t, last.count("ORDERS", "SECOND"), int64(50))
		assert.Zero(t, refusal.Error.Data.RetryAfter%10000, "the next 10 s")
		assert.Greater(t, refusal.Error.Data.RetryAfter, refusal.Error.Data.ServerTime)
	})
	t.Run("off by default", func(t *testing.T) {
		v := venuesim.Start(&venuesim.Options{Rate: 1})
		defer v.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, _, err := websocket.Dial(ctx, v.APIURL(), nil)
		require.NoError(t, err)
		defer func() { _ = c.CloseNow() }()
		for i := 1; i <= 80; i++ {
			require.NoError(t, c.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"id":%d,"method":"openOrders.status","params":{"timestamp":1}}`, i)))
			_, msg, err := c.Read(ctx)
			require.NoError(t, err)
			var a limitAnswer
			require.NoError(t, json.Unmarshal(msg, &a))
			require.Equal(t, 200, a.Status, "%s", msg)
		}
	})
}

// A session.Session placing past ORDERS on a venue that enforces it gets
// the refusal as a *session.VenueError (429, -1015, RetryAfter the next
// 10 s), and until then its further places are not sent (ErrNotSent
// wrapping that refusal) while a cancel still goes: it survives with a
// typed error, and places again once the interval has passed.
func TestS27SessionMeetsTheOrdersLimit(t *testing.T) {
	const key, secret = "k27", "s27"
	// The venue's clock and the session's signing clock (Config.Now) are
	// one injected clock, moved by the test: the 10 s ORDERS interval
	// passes without waiting 10 s of the real one, and "before
	// retryAfter" holds whatever the machine's load.
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 200, APIKey: key, APISecret: secret, EnforceRateLimits: true, Clock: clk})
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := session.Start(ctx, session.Config{
		Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"bookTicker"},
		Credentials: normalize.NewCredentials(key, normalize.NewHMACSigner([]byte(secret))),
		Now:         clk.Now,
	})
	require.NoError(t, err)
	defer func() {
		require.NoError(t, s.Close(context.Background()))
		require.Zero(t, s.Outstanding())
	}()
	require.NoError(t, s.WaitConnected(ctx))
	place := func(id string) (session.Ack, error) {
		req, err := s.Pools().Orders.Get(ctx)
		require.NoError(t, err)
		defer s.Pools().Orders.Put(req)
		req.Symbol, req.ClientOrderID, req.Type, req.TimeInForce, req.Side = "BTC-USDT", schema.MustID(id), schema.OrderTypeLimit, schema.TIFGTC, schema.SideBuy
		req.Price, req.Qty = schema.MustParseDecimal("1000.00"), schema.MustParseDecimal("0.01")
		return s.Place(ctx, req)
	}
	var verr *session.VenueError
	for i := 1; ; i++ {
		require.Less(t, i, 1000, "never refused")
		_, err := place(fmt.Sprintf("lim-%d", i))
		if err == nil {
			continue
		}
		require.ErrorAs(t, err, &verr)
		break
	}
	assert.Equal(t, 429, verr.Status)
	assert.EqualValues(t, -1015, verr.Code)
	require.False(t, verr.RetryAfter.IsZero())
	require.True(t, clk.Now().Before(verr.RetryAfter), "the clock has not moved")
	_, err = place("lim-held")
	require.ErrorIs(t, err, session.ErrNotSent, "nothing sent before retryAfter")
	// Once the interval is over, places go again.
	clk.Advance(verr.RetryAfter.Sub(clk.Now()))
	_, err = place("lim-after")
	require.NoError(t, err)
}
