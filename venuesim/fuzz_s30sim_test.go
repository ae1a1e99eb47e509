package venuesim_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/venuesim"
)

// FuzzS30OKXRequests: whatever a client sends to OKX's /ws/v5/public, the
// venue answers it with at least one event (an answer per arg, or 60012
// or 60018) and goes on serving: a "ping" sent after it is answered
// "pong". It never panics (a panic in its connection goroutine would end
// the fuzzing process).
func FuzzS30OKXRequests(f *testing.F) {
	for _, seed := range []string{
		`{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"},{"channel":"trades","instId":"ETH-USDT"}]}`,
		`{"op":"unsubscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}`,
		`{"op":"subscribe","args":[{"channel":"tickers","instId":"XRP-USDT"}]}`,
		`{"op":"subscribe","args":[]}`, `{"op":"login","args":[{}]}`, `{"op":7,"args":"x"}`,
		`{"op":"subscribe","args":[{"channel":"bbo-tbt"}]}`, `[1]`, `{`, ``, `pong`, `PING`,
	} {
		f.Add([]byte(seed))
	}
	v := venuesim.Start(&venuesim.Options{Rate: 1})
	defer v.Close()
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, v.OKXURL(), nil)
	if err != nil {
		f.Fatal(err)
	}
	defer func() { _ = c.CloseNow() }()
	f.Fuzz(func(t *testing.T, msg []byte) {
		if string(msg) == "ping" {
			return // its pong is the end mark
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		for _, m := range [][]byte{msg, []byte("ping")} {
			if err := c.Write(ctx, websocket.MessageText, m); err != nil {
				t.Fatalf("write: %v", err)
			}
		}
		events := 0
		for {
			_, reply, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("no answer to %q: %v", msg, err)
			}
			if bytes.Equal(reply, []byte("pong")) {
				break
			}
			var r struct {
				Event jsontext.Value `json:"event"`
				Arg   jsontext.Value `json:"arg"`
			}
			if err := json.Unmarshal(reply, &r); err != nil {
				t.Fatalf("answer to %q: %s (%v)", msg, reply, err)
			}
			if len(r.Event) > 0 {
				events++
			}
		}
		if events == 0 {
			t.Fatalf("no event answered %q", msg)
		}
	})
}
