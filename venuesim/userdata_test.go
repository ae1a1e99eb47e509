package venuesim_test

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// TestUserDataSubscriptionTimestamp: with a secret, the signed user-data
// subscription is refused with -1021 when its timestamp is older than
// recvWindow or 1 s ahead of the venue's clock, accepted otherwise, and
// every request is recorded with its timestamp.
func TestUserDataSubscriptionTimestamp(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50, APIKey: "key", APISecret: "secret"})
	defer v.Close()
	a := apiConn{t, dial(t, v.APIURL())}
	now := time.Now().UnixMilli()
	cases := []struct {
		ts, window string
		code       float64 // 0: accepted
	}{
		{strconv.FormatInt(now, 10), "", 0},
		{strconv.FormatInt(now-60_000, 10), "", -1021},      // a minute old: outside the default 5 s
		{strconv.FormatInt(now-60_000, 10), "50000", -1021}, // still outside a 50 s window
		{strconv.FormatInt(now-3_000, 10), "50000", 0},      // inside it
		{strconv.FormatInt(now+600_000, 10), "", -1021},     // ahead of the venue's clock
		{strconv.FormatInt(now, 10), "70000", -1131},        // recvWindow over 60 s
		{"yesterday", "", -1102},                            // not a number
	}
	for i, tc := range cases {
		params := map[string]string{"apiKey": "key", "timestamp": tc.ts}
		if tc.window != "" {
			params["recvWindow"] = tc.window
		}
		params["signature"] = sign("secret", params)
		id := float64(10 + i)
		body, _ := json.Marshal(map[string]any{"id": id, "method": "userDataStream.subscribe.signature", "params": params})
		write(t, a.c, string(body))
		resp := a.response(id)
		if tc.code == 0 {
			assert.Equal(t, float64(200), resp["status"], tc)
			// One subscription a connection: ended before the next case.
			write(t, a.c, `{"id":`+strconv.Itoa(100+i)+`,"method":"userDataStream.unsubscribe"}`)
			assert.Equal(t, float64(200), a.response(float64(100 + i))["status"])
			continue
		}
		require.Contains(t, resp, "error", tc)
		assert.Equal(t, tc.code, resp["error"].(map[string]any)["code"], tc)
	}
	subs := v.UserDataSubscriptions()
	require.Len(t, subs, len(cases))
	assert.True(t, subs[0].Accepted)
	assert.Equal(t, now, subs[0].Timestamp)
	assert.False(t, subs[1].Accepted)
	assert.Equal(t, -1021, subs[1].Code)
}

func TestServerTimeAndCloseAPI(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	resp, err := http.Get(v.RESTURL() + "/api/v3/time")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var st struct {
		ServerTime int64 `json:"serverTime"`
	}
	require.NoError(t, json.Unmarshal(body, &st))
	assert.InDelta(t, time.Now().UnixMilli(), st.ServerTime, float64(time.Hour.Milliseconds()))

	a := openAPI(t, v)
	assert.Equal(t, 1, v.CloseAPI())
	_, _, err = a.c.Read(t.Context())
	assert.Error(t, err, "the WS-API connection was closed")
}

// TestReportsFollowTheUserDataStream: an order rests, its connection
// closes; the execution report of its cancel reaches the account's new
// user-data subscription.
func TestReportsFollowTheUserDataStream(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","newClientOrderId":"rest-1","timestamp":1}}`)
	assert.Equal(t, "NEW", a.report()["X"])
	require.Equal(t, 1, v.CloseAPI())
	b := openAPI(t, v)
	write(t, b.c, `{"id":3,"method":"order.cancel","params":{"symbol":"ETHUSDT","origClientOrderId":"rest-1","timestamp":2}}`)
	r := b.report()
	assert.Equal(t, []any{"CANCELED", "rest-1"}, []any{r["X"], r["C"]}, "C: the canceled order's client id")
}

// TestFilterFailures: orders off the tick or step size, or under the
// minimum notional, are refused with -1013 as Binance refuses them.
func TestFilterFailures(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	for i, tc := range []struct{ params, msg string }{
		{`"type":"LIMIT","timeInForce":"GTC","price":"1000.005","quantity":"1"`, "Filter failure: PRICE_FILTER"},
		{`"type":"LIMIT","timeInForce":"GTC","price":"1000.00","quantity":"0.000001"`, "Filter failure: LOT_SIZE"},
		{`"type":"LIMIT","timeInForce":"GTC","price":"1000.00","quantity":"0.001"`, "Filter failure: NOTIONAL"},
		{`"type":"MARKET","quantity":"0.123456"`, "Filter failure: LOT_SIZE"},
	} {
		id := 10 + i
		write(t, a.c, `{"id":`+strconv.Itoa(id)+`,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY",`+tc.params+`,"timestamp":1}}`)
		assert.Equal(t, map[string]any{"code": float64(-1013), "msg": tc.msg}, a.response(float64(id))["error"], tc.params)
	}
}
