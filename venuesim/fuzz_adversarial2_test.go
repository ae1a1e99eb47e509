package venuesim_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/venuesim"
)

// FuzzWSAPI: whatever a client sends to the WS-API — malformed JSON,
// parameters of any type, huge or negative amounts, unknown methods — the
// venue answers it with one JSON response carrying a status (Binance's
// shape) and goes on serving; it never panics (a panic in its connection
// goroutine would end the fuzzing process).
func FuzzWSAPI(f *testing.F) {
	for _, seed := range []string{
		`{"id":1,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"0.001","timestamp":1}}`,
		`{"id":"a","method":"order.place","params":{"symbol":"ETHUSDT","side":"SELL","type":"LIMIT","timeInForce":"IOC","price":"99999999999.99999999","quantity":"1","timestamp":1}}`,
		`{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quoteOrderQty":"0.00000001","timestamp":1}}`,
		`{"id":3,"method":"order.cancel","params":{"symbol":"BTCUSDT","orderId":-1,"timestamp":1}}`,
		`{"id":4,"method":"order.status","params":{"symbol":"BTCUSDT","origClientOrderId":"x","timestamp":1}}`,
		`{"id":5,"method":"myTrades","params":{"symbol":"BTCUSDT","limit":"-5","fromId":"x","timestamp":1}}`,
		`{"id":6,"method":"openOrders.status","params":{}}`,
		`{"id":null,"method":"time"}`,
		`{"id":7,"method":"userDataStream.subscribe"}`,
		`{"id":8,"method":"userDataStream.subscribe.signature","params":{"timestamp":1}}`,
		`{"id":9,"method":"userDataStream.unsubscribe","params":{"subscriptionId":0}}`,
		`{"method":"order.place","params":{"quantity":{"a":1},"price":[1],"symbol":7}}`,
		`[1,2,3]`, `"x"`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	v := venuesim.Start(&venuesim.Options{Rate: 1, Balance: 1 << 40})
	defer v.Close()
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, v.APIURL(), nil)
	if err != nil {
		f.Fatal(err)
	}
	defer func() { _ = c.CloseNow() }()
	f.Fuzz(func(t *testing.T, msg []byte) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
			t.Fatalf("write: %v", err)
		}
		for {
			_, reply, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("no answer to %q: %v", msg, err)
			}
			var r struct {
				Status int            `json:"status"`
				Event  jsontext.Value `json:"event"`
			}
			err = json.Unmarshal(reply, &r)
			if err == nil && r.Status == 0 && len(r.Event) > 0 {
				// A user-data event (an execution report, an unsubscribe's
				// eventStreamTerminated) of an earlier input: not its answer.
				continue
			}
			if err != nil || r.Status == 0 {
				t.Fatalf("answer to %q: %s (%v)", msg, reply, err)
			}
			break
		}
	})
}
