package venuesim_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sort"
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

type apiConn struct {
	t *testing.T
	c *websocket.Conn
}

// next reads the next message, decoded.
func (a apiConn) next() map[string]any {
	var m map[string]any
	require.NoError(a.t, json.Unmarshal(read(a.t, a.c), &m))
	return m
}

// report reads until the next executionReport and returns its event.
func (a apiConn) report() map[string]any { return a.event("executionReport") }

// event reads until the next user-data event named e, skipping others.
func (a apiConn) event(e string) map[string]any {
	for {
		m := a.next()
		if ev, ok := m["event"].(map[string]any); ok && ev["e"] == e {
			return ev
		}
	}
}

// response reads until the response to request id.
func (a apiConn) response(id float64) map[string]any {
	for {
		m := a.next()
		if m["id"] == id {
			return m
		}
	}
}

func openAPI(t *testing.T, v *venuesim.Venue) apiConn {
	a := apiConn{t, dial(t, v.APIURL())}
	write(t, a.c, `{"id":1,"method":"userDataStream.subscribe"}`)
	assert.Equal(t, map[string]any{"id": float64(1), "status": float64(200), "result": map[string]any{"subscriptionId": float64(0)}}, withoutLimits(t, a.response(1)))
	return a
}

func TestMarketableOrderFills(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"0.02000000","newClientOrderId":"mkt-1","timestamp":1}}`)
	resp := a.response(2)
	assert.Equal(t, float64(200), resp["status"])
	res := resp["result"].(map[string]any)
	assert.Equal(t, "mkt-1", res["clientOrderId"])
	assert.Equal(t, "FILLED", res["status"], "the FULL answer tells the outcome")

	r := a.report()
	assert.Equal(t, []any{"NEW", "NEW", "mkt-1", "0.02000000"}, []any{r["x"], r["X"], r["c"], r["q"]})
	r = a.report()
	assert.Equal(t, []any{"TRADE", "PARTIALLY_FILLED", "0.01000000", "0.01000000"}, []any{r["x"], r["X"], r["l"], r["z"]})
	assert.NotEqual(t, "0.00000000", r["L"])
	assert.Equal(t, "BTC", r["N"])
	r = a.report()
	assert.Equal(t, []any{"TRADE", "FILLED", "0.01000000", "0.02000000"}, []any{r["x"], r["X"], r["l"], r["z"]})
}

func TestRestingOrderCancels(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1.5","newClientOrderId":"rest-1","timestamp":1}}`)
	assert.Equal(t, float64(200), a.response(2)["status"])
	r := a.report()
	assert.Equal(t, "NEW", r["X"])
	assert.Equal(t, "100.00000000", r["p"])
	write(t, a.c, `{"id":3,"method":"order.cancel","params":{"symbol":"ETHUSDT","origClientOrderId":"rest-1","timestamp":2}}`)
	resp := a.response(3)
	assert.Equal(t, "CANCELED", resp["result"].(map[string]any)["status"])
	r = a.report()
	assert.Equal(t, []any{"CANCELED", "CANCELED", "rest-1"}, []any{r["x"], r["X"], r["C"]})
	write(t, a.c, `{"id":4,"method":"order.cancel","params":{"symbol":"ETHUSDT","origClientOrderId":"rest-1","timestamp":3}}`)
	assert.Equal(t, map[string]any{"code": float64(-2011), "msg": "Unknown order sent."}, a.response(4)["error"])
}

func TestBadOrdersAreRejected(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	cases := []struct {
		params string
		code   float64
		msg    string
	}{
		{`{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"1","timestamp":1}`, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."},
		{`{"symbol":"NOPE","side":"BUY","type":"MARKET","quantity":"1","timestamp":1}`, -1121, "Invalid symbol."},
		{`{"symbol":"BTCUSDT","type":"MARKET","quantity":"1","timestamp":1}`, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed."},
		{`{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"1","price":"5","timestamp":1}`, -1106, "Parameter 'price' sent when not required."},
		{`{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"1","price":"5","timestamp":1}`, -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."},
		{`{"symbol":"BTCUSDT","side":"BUY","type":"STOP","quantity":"1","timestamp":1}`, -1116, "Invalid orderType."},
		{`{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"1"}`, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."},
	}
	for i, tc := range cases {
		write(t, a.c, `{"id":`+strconv.Itoa(10+i)+`,"method":"order.place","params":`+tc.params+`}`)
		resp := a.response(float64(10 + i))
		assert.Equal(t, float64(400), resp["status"], tc.params)
		assert.Equal(t, map[string]any{"code": tc.code, "msg": tc.msg}, resp["error"], tc.params)
	}
	// A business reject also shows up as a REJECTED execution report.
	write(t, a.c, `{"id":50,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"60000","quantity":"1000","newClientOrderId":"big","timestamp":1}}`)
	assert.Equal(t, map[string]any{"code": float64(-2010), "msg": "Account has insufficient balance for requested action."}, a.response(50)["error"])
	r := a.report()
	assert.Equal(t, []any{"REJECTED", "REJECTED", "INSUFFICIENT_BALANCES", "big"}, []any{r["x"], r["X"], r["r"], r["c"]})
	assert.GreaterOrEqual(t, v.Stats().Rejected, uint64(len(cases)+1))
}

func sign(secret string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+params[k])
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strings.Join(parts, "&")))
	return hex.EncodeToString(mac.Sum(nil))
}

func TestSignatureChecked(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50, APIKey: "key", APISecret: "secret"})
	defer v.Close()
	a := openAPI(t, v)
	params := map[string]string{"apiKey": "key", "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
		"price": "99999", "quantity": "0.001", "newClientOrderId": "signed", "timestamp": strconv.FormatInt(time.Now().UnixMilli(), 10)}
	params["signature"] = sign("secret", params)
	body, _ := json.Marshal(map[string]any{"id": 2, "method": "order.place", "params": params})
	write(t, a.c, string(body))
	assert.Equal(t, float64(200), a.response(2)["status"])

	params["signature"] = sign("wrong", params)
	body, _ = json.Marshal(map[string]any{"id": 3, "method": "order.place", "params": params})
	write(t, a.c, string(body))
	assert.Equal(t, float64(-1022), a.response(3)["error"].(map[string]any)["code"])
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	t.Run("close", func(t *testing.T) {
		v := venuesim.Start(&venuesim.Options{Rate: 200})
		defer v.Close()
		c := dial(t, v.StreamURL("btcusdt@trade"))
		read(t, c)
		require.Equal(t, 1, v.Inject(venuesim.FaultClose))
		err := drain(c)
		assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err), "%v", err)
	})
	t.Run("reset", func(t *testing.T) {
		v := venuesim.Start(&venuesim.Options{Rate: 200})
		defer v.Close()
		c := dial(t, v.StreamURL("btcusdt@trade"))
		read(t, c)
		v.Inject(venuesim.FaultReset)
		err := drain(c)
		require.Error(t, err)
		assert.Equal(t, websocket.StatusCode(-1), websocket.CloseStatus(err), "no close frame: %v", err)
	})
	t.Run("stall keeps answering pings", func(t *testing.T) {
		v := venuesim.Start(&venuesim.Options{Rate: 500})
		defer v.Close()
		c := dial(t, v.StreamURL("btcusdt@depth"))
		read(t, c)
		v.Inject(venuesim.FaultStall)
		got := make(chan int, 1)
		go func() {
			n := 0
			for {
				if _, _, err := c.Read(ctx); err != nil {
					got <- n
					return
				}
				n++
			}
		}()
		require.NoError(t, c.Ping(s29Ctx(t)), "a stalled connection still answers pings")
		before := v.Stats().Messages
		require.Eventually(t, func() bool { return v.Stats().Messages > before+20 }, 5*time.Second, time.Millisecond)
		_ = c.CloseNow()
		assert.LessOrEqual(t, <-got, 16384, "only what was queued before the stall arrives")
	})
	t.Run("no pong", func(t *testing.T) {
		v := venuesim.Start(&venuesim.Options{Rate: 200})
		defer v.Close()
		c := dial(t, v.StreamURL("btcusdt@trade"))
		read(t, c)
		v.Inject(venuesim.FaultNoPong)
		go func() { _ = drain(c) }()
		pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, c.Ping(pctx), context.DeadlineExceeded, "a half-open connection never answers")
	})
	t.Run("garbage", func(t *testing.T) {
		v := venuesim.Start(&venuesim.Options{Rate: 200})
		defer v.Close()
		c := dial(t, v.StreamURL("btcusdt@trade"))
		read(t, c)
		v.Inject(venuesim.FaultGarbage)
		var binary, junk, good bool
		for !binary || !junk || !good {
			typ, msg, err := c.Read(ctx)
			require.NoError(t, err)
			switch {
			case typ == websocket.MessageBinary:
				binary = true
			case !json.Valid(msg):
				junk = true
			case junk:
				good = true // good messages still come after the junk
			}
		}
	})
	t.Run("oversized", func(t *testing.T) {
		v := venuesim.Start(&venuesim.Options{Rate: 200, OversizedBytes: 2 << 20})
		defer v.Close()
		c := dial(t, v.StreamURL("btcusdt@trade"))
		read(t, c)
		v.Inject(venuesim.FaultOversized)
		err := drain(c)
		assert.ErrorContains(t, err, "message too big")
	})
	t.Run("max age", func(t *testing.T) {
		clk := newS29Clock(s29Epoch)
		v := venuesim.Start(&venuesim.Options{Rate: 200, Clock: clk, PingInterval: -1})
		defer v.Close()
		c := dial(t, v.StreamURL("btcusdt@trade"))
		clk.waitSleeping(t, time.Millisecond, 1)
		clk.Advance(time.Second)
		read(t, c)
		v.SetMaxConnAge(time.Hour)
		clk.waitSleeping(t, time.Hour, 1)
		clk.Advance(time.Hour)
		err := drain(c)
		assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err), "%v", err)
	})
	assert.Equal(t, "no-pong", venuesim.FaultNoPong.String())
	assert.Equal(t, "unknown", venuesim.Fault(99).String())
	assert.Len(t, venuesim.Faults(), 8)
}

// drain reads until the connection fails and returns the error.
func drain(c *websocket.Conn) error {
	for {
		if _, _, err := c.Read(context.Background()); err != nil {
			return err
		}
	}
}

func TestExchangeInfoAndStats(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"SOLUSDC"}, Rate: 100})
	defer v.Close()
	resp, err := httpGetJSON(v.RESTURL() + "/api/v3/exchangeInfo")
	require.NoError(t, err)
	syms := resp["symbols"].([]any)
	require.Len(t, syms, 1)
	sym := syms[0].(map[string]any)
	filters := sym["filters"]
	delete(sym, "filters")
	assert.Equal(t, map[string]any{"symbol": "SOLUSDC", "status": "TRADING", "baseAsset": "SOL", "quoteAsset": "USDC",
		"baseAssetPrecision": float64(8), "quotePrecision": float64(8), "quoteAssetPrecision": float64(8),
		"orderTypes": []any{"LIMIT", "LIMIT_MAKER", "MARKET"}, "isSpotTradingAllowed": true, "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
		"allowedSelfTradePreventionModes": []any{"EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"}}, sym)
	assert.Equal(t, []any{
		map[string]any{"filterType": "PRICE_FILTER", "minPrice": "0.00010000", "maxPrice": "10000000.00000000", "tickSize": "0.00010000"},
		map[string]any{"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
		map[string]any{"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": false, "maxNotional": "100000000.00000000", "applyMaxToMarket": false, "avgPriceMins": float64(5)},
	}, filters)
	assert.Equal(t, []string{"SOLUSDC"}, v.Symbols())
	_, err = httpGetJSON(v.RESTURL() + "/api/v3/depth?symbol=NOPE")
	assert.ErrorContains(t, err, "Invalid symbol.")
	c := dial(t, v.StreamURL("solusdc@trade"))
	read(t, c)
	st := v.Stats()
	assert.Equal(t, uint64(1), st.Connections)
	assert.Equal(t, int64(1), st.Active)
	assert.Eventually(t, func() bool { return v.Stats().Sent > 0 }, 5*time.Second, time.Millisecond)
}
