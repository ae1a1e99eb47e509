package venuesim_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/meltica/meltica/venuesim"
)

// Audit of issue 6 ("the SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS protocol
// with its acks and errors") against HELPERS' rule "every parser has a fuzz
// target with a seed corpus": FuzzWSAPI covers the WS-API; this covers the
// market-stream control requests. Whatever a client sends, the venue never
// panics (a panic in its connection goroutine ends the fuzzing process) and
// goes on serving: a LIST_SUBSCRIPTIONS sent after it is answered.
func FuzzMarketStreamRequests(f *testing.F) {
	for _, seed := range []string{
		`{"method":"SUBSCRIBE","params":["btcusdt@trade","ethusdt@depth@100ms"],"id":1}`,
		`{"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":2}`,
		`{"method":"LIST_SUBSCRIPTIONS","id":3}`,
		`{"method":"SET_PROPERTY","params":["combined",true],"id":4}`,
		`{"method":"GET_PROPERTY","params":["combined"],"id":5}`,
		`{"method":"SET_PROPERTY","params":["combined","x"],"id":6}`,
		`{"method":"SUBSCRIBE","params":[1,null,{"a":[]}],"id":-1}`,
		`{"method":"SUBSCRIBE","params":["btcusdt@kline_1m"],"id":18446744073709551616}`,
		`{"method":"SUBSCRIBE","params":"btcusdt@trade","id":"x"}`,
		`{"method":7}`, `[]`, `{`, ``, "\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: 1, IncomingLimit: -1})
	defer v.Close()
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, v.CombinedURL(), nil)
	if err != nil {
		f.Fatal(err)
	}
	c.SetReadLimit(64 << 20)
	defer func() { _ = c.CloseNow() }()
	probe := []byte(`{"method":"LIST_SUBSCRIPTIONS","id":424242}`)
	f.Fuzz(func(t *testing.T, msg []byte) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
			t.Fatalf("write %q: %v", msg, err)
		}
		if err := c.Write(ctx, websocket.MessageText, probe); err != nil {
			t.Fatalf("write after %q: %v", msg, err)
		}
		for {
			_, reply, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("no answer to LIST_SUBSCRIPTIONS after %q: %v", msg, err)
			}
			if bytes.Contains(reply, []byte(`"id":424242`)) {
				return
			}
		}
	})
}
