package venuesim_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
)

// The tests in this file hold the package documentation (go doc -all
// ./venuesim) to its statements about the WS-API: the Binance error codes
// a client must handle, through a real WebSocket and requests encoded by
// normalize.BinanceOrders as a host's would be.

type apiAnswer struct {
	ID     uint64         `json:"id"`
	Status int            `json:"status"`
	Result jsontext.Value `json:"result"`
	Error  struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"error"`
}

func dialAPI(t *testing.T, v *venuesim.Venue) (ask func(req []byte) apiAnswer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, v.APIURL(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return func(req []byte) apiAnswer {
		t.Helper()
		require.NoError(t, c.Write(ctx, websocket.MessageText, req))
		for {
			_, msg, err := c.Read(ctx)
			require.NoError(t, err)
			var a apiAnswer
			require.NoError(t, json.Unmarshal(msg, &a, json.RejectUnknownMembers(false)), "%s", msg)
			if a.Status != 0 { // an answer, not a user-data event
				return a
			}
		}
	}
}

// "order.place [...] validated (filters included: -1013)"; "order.status
// (-2013 for an unknown order)"; "[Venue.FailQueries] refuses the next n
// queries as the weight limit does (429, -1003)".
func TestDocWSAPIErrorCodes(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1, PingInterval: -1})
	defer v.Close()
	ask := dialAPI(t, v)
	enc := normalize.NewBinanceOrders(normalize.NewCredentials("key", normalize.NewHMACSigner([]byte("secret"))), nil)

	order := &schema.OrderRequest{Symbol: "BTC-USDT", Side: schema.SideBuy, Type: schema.OrderTypeLimit, TimeInForce: schema.TIFGTC,
		Price: schema.MustParseDecimal("60000.00"), Qty: schema.MustParseDecimal("0.000015"), ClientOrderID: schema.MustID("lot")}
	req, err := enc.AppendRequest(nil, 1, order)
	require.NoError(t, err)
	a := ask(req)
	assert.Equal(t, -1013, a.Error.Code, "a quantity off the 0.00001 step: %+v", a)
	assert.Contains(t, a.Error.Msg, "LOT_SIZE")

	order.Qty, order.Price, order.ClientOrderID = schema.MustParseDecimal("0.00001"), schema.MustParseDecimal("60000.00"), schema.MustID("notional")
	req, err = enc.AppendRequest(nil, 2, order)
	require.NoError(t, err)
	a = ask(req)
	assert.Equal(t, -1013, a.Error.Code, "0.6 USDT is under the 5 USDT notional: %+v", a)
	assert.Contains(t, a.Error.Msg, "NOTIONAL")

	req, err = enc.AppendOrderStatus(nil, 3, "BTC-USDT", schema.MustID("987654321"))
	require.NoError(t, err)
	a = ask(req)
	assert.Equal(t, 400, a.Status)
	assert.Equal(t, -2013, a.Error.Code, "%+v", a)

	v.FailQueries(1)
	a = ask(req)
	assert.Equal(t, 429, a.Status)
	assert.Equal(t, -1003, a.Error.Code)
	a = ask(req)
	assert.Equal(t, -2013, a.Error.Code, "only the next n queries are refused")
}

// "With Options.APISecret, signed requests are checked: key, signature, and
// timestamp within recvWindow (-1021)."
func TestDocWSAPISignedRequestsChecked(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1, PingInterval: -1, APIKey: "key", APISecret: "secret"})
	defer v.Close()
	ask := dialAPI(t, v)
	order := &schema.OrderRequest{Symbol: "BTC-USDT", Side: schema.SideBuy, Type: schema.OrderTypeLimit, TimeInForce: schema.TIFGTC,
		Price: schema.MustParseDecimal("60000.00"), Qty: schema.MustParseDecimal("0.001"), ClientOrderID: schema.MustID("t1")}

	stale := normalize.NewBinanceOrders(normalize.NewCredentials("key", normalize.NewHMACSigner([]byte("secret"))),
		&normalize.OrderOptions{Now: func() time.Time { return time.Now().Add(-time.Minute) }})
	req, err := stale.AppendRequest(nil, 1, order)
	require.NoError(t, err)
	a := ask(req)
	assert.Equal(t, -1021, a.Error.Code, "a minute old is outside the default 5 s recvWindow: %+v", a)

	ahead := normalize.NewBinanceOrders(normalize.NewCredentials("key", normalize.NewHMACSigner([]byte("secret"))),
		&normalize.OrderOptions{Now: func() time.Time { return time.Now().Add(time.Minute) }})
	req, err = ahead.AppendRequest(nil, 2, order)
	require.NoError(t, err)
	a = ask(req)
	assert.Equal(t, -1021, a.Error.Code, "a timestamp 1 s or more ahead of the server: %+v", a)

	wrong := normalize.NewBinanceOrders(normalize.NewCredentials("key", normalize.NewHMACSigner([]byte("not-the-secret"))), nil)
	req, err = wrong.AppendRequest(nil, 3, order)
	require.NoError(t, err)
	a = ask(req)
	assert.NotEqual(t, 200, a.Status, "a bad signature is refused: %+v", a)
	assert.NotZero(t, a.Error.Code)

	good := normalize.NewBinanceOrders(normalize.NewCredentials("key", normalize.NewHMACSigner([]byte("secret"))), nil)
	req, err = good.AppendRequest(nil, 4, order)
	require.NoError(t, err)
	a = ask(req)
	assert.Equal(t, 200, a.Status, "%+v", a)
}
