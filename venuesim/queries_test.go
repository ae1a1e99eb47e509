package venuesim_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// TestQueriesAnswerFromMatchingState: order.status, myTrades and
// openOrders.status follow the order through a fill made while no
// user-data subscription listens (nothing streamed), a refusal past the
// weight limit, and an expiry.
func TestQueriesAnswerFromMatchingState(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := apiConn{t, dial(t, v.APIURL())} // no user-data subscription
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"1000.00","quantity":"0.03","newClientOrderId":"q-1","timestamp":1}}`)
	res := a.response(2)["result"].(map[string]any)
	id := uint64(res["orderId"].(float64))

	require.NoError(t, v.FillOrder(id, "0.01"))
	require.ErrorIs(t, v.FillOrder(id, "5"), venuesim.ErrBadAmount)
	require.ErrorIs(t, v.FillOrder(1, ""), venuesim.ErrUnknownOrder)

	write(t, a.c, `{"id":3,"method":"order.status","params":{"symbol":"BTCUSDT","orderId":`+itoa(id)+`,"timestamp":1}}`)
	st := a.response(3)["result"].(map[string]any)
	assert.Equal(t, []any{"PARTIALLY_FILLED", "0.01000000", "10.00000000", "q-1"}, []any{st["status"], st["executedQty"], st["cummulativeQuoteQty"], st["clientOrderId"]})

	write(t, a.c, `{"id":4,"method":"myTrades","params":{"symbol":"BTCUSDT","orderId":`+itoa(id)+`,"timestamp":1}}`)
	trades := a.response(4)["result"].([]any)
	require.Len(t, trades, 1)
	tr := trades[0].(map[string]any)
	assert.Equal(t, []any{"1000.00000000", "0.01000000", "10.00000000", "0.00001000", "BTC", true, true},
		[]any{tr["price"], tr["qty"], tr["quoteQty"], tr["commission"], tr["commissionAsset"], tr["isMaker"], tr["isBuyer"]})

	write(t, a.c, `{"id":5,"method":"openOrders.status","params":{"timestamp":1}}`)
	assert.Len(t, a.response(5)["result"], 1)

	v.FailQueries(1)
	write(t, a.c, `{"id":6,"method":"order.status","params":{"symbol":"BTCUSDT","orderId":`+itoa(id)+`,"timestamp":1}}`)
	refused := a.response(6)
	assert.Equal(t, float64(429), refused["status"])
	assert.Equal(t, float64(-1003), refused["error"].(map[string]any)["code"])

	require.NoError(t, v.EndOrder(id, "EXPIRED"))
	require.ErrorIs(t, v.EndOrder(id, "EXPIRED"), venuesim.ErrUnknownOrder)
	write(t, a.c, `{"id":7,"method":"order.status","params":{"symbol":"BTCUSDT","orderId":`+itoa(id)+`,"timestamp":1}}`)
	assert.Equal(t, "EXPIRED", a.response(7)["result"].(map[string]any)["status"])
	write(t, a.c, `{"id":8,"method":"openOrders.status","params":{"symbol":"BTCUSDT","timestamp":1}}`)
	assert.Empty(t, a.response(8)["result"])
	write(t, a.c, `{"id":9,"method":"order.status","params":{"symbol":"BTCUSDT","orderId":1,"timestamp":1}}`)
	assert.Equal(t, float64(-2013), a.response(9)["error"].(map[string]any)["code"])
	assert.Equal(t, uint64(7), v.Stats().Queries)
}

// TestHoldUserData: a held subscription is answered, and in effect, only
// once released; reports sent meanwhile are lost.
func TestHoldUserData(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := apiConn{t, dial(t, v.APIURL())}
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"1000.00","quantity":"0.03","timestamp":1}}`)
	id := uint64(a.response(2)["result"].(map[string]any)["orderId"].(float64))
	v.HoldUserData(true)
	write(t, a.c, `{"id":3,"method":"userDataStream.subscribe"}`)
	require.Eventually(t, func() bool { return v.HeldUserData() == 1 }, 30*time.Second, time.Millisecond)
	require.NoError(t, v.FillOrder(id, "0.01")) // lost: not subscribed yet
	assert.Equal(t, 1, v.HoldUserData(false))
	assert.Equal(t, float64(200), a.response(3)["status"])
	require.NoError(t, v.FillOrder(id, ""))
	r := a.report()
	assert.Equal(t, []any{"TRADE", "FILLED", "0.02000000", "0.03000000"}, []any{r["x"], r["X"], r["l"], r["z"]})
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// TestHoldQueriesResendDrop: held queries are answered on release from the
// state then; ResendFill repeats the latest fill's report; DropNextPlace
// takes the order and closes the connection before any answer.
func TestHoldQueriesResendDrop(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"1000.00","quantity":"0.03","newClientOrderId":"h-1","timestamp":1}}`)
	id := uint64(a.response(2)["result"].(map[string]any)["orderId"].(float64))
	assert.Equal(t, "NEW", a.report()["X"])
	got, ok := v.OrderID("h-1")
	require.True(t, ok)
	require.Equal(t, id, got)

	v.HoldQueries(true)
	write(t, a.c, `{"id":3,"method":"order.status","params":{"symbol":"BTCUSDT","orderId":`+itoa(id)+`,"timestamp":1}}`)
	require.Eventually(t, func() bool { return v.HeldQueries() == 1 }, 30*time.Second, time.Millisecond)
	require.NoError(t, v.FillOrder(id, "0.01"))
	first := a.report()
	assert.Equal(t, 1, v.HoldQueries(false))
	assert.Equal(t, "PARTIALLY_FILLED", a.response(3)["result"].(map[string]any)["status"], "answered from the state at release")

	require.NoError(t, v.ResendFill(id))
	again := a.report()
	assert.Equal(t, first["t"], again["t"])
	assert.Equal(t, first["z"], again["z"])

	v.DropNextPlace()
	write(t, a.c, `{"id":4,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"1000.00","quantity":"0.03","newClientOrderId":"h-2","timestamp":1}}`)
	_, _, err := a.c.Read(context.Background())
	require.Error(t, err, "closed before any answer")
	_, ok = v.OrderID("h-2")
	assert.True(t, ok, "the venue has the order")
}
