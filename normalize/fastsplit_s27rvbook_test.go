package normalize

import (
	"context"
	"testing"

	"github.com/meltica/meltica/schema"
	"github.com/stretchr/testify/assert"
)

// A combined-stream frame whose fast split keeps what follows "data"'s
// value (up to the wrapper's last "}") must not be taken: trailing
// garbage or another member after the payload is either refused or
// parsed as goccy's path would, never silently dropped.
func TestS27rvFastSplitTrailing(t *testing.T) {
	ctx := context.Background()
	trade := `{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1.0","q":"1.0","T":1,"m":true}`
	for name, in := range map[string]string{
		"garbage":      `{"stream":"btcusdt@trade","data":` + trade + `xyz}`,
		"second value": `{"stream":"btcusdt@trade","data":` + trade + `{}}`,
		"dup data":     `{"stream":"btcusdt@trade","data":` + trade + `,"data":{}}`,
		"ws garbage":   `{"subscriptionId":1,"event":` + trade + `xyz}`,
	} {
		t.Run(name, func(t *testing.T) {
			events := schema.NewPools(nil).Events
			sink := &putSink{events: events}
			p := ctorOf["binance"](events, sink, nil)
			err := p.HandleBytes(ctx, []byte(in), 1)
			t.Logf("err=%v", err)
			assert.Error(t, err, "invalid JSON frame accepted")
		})
	}
}

// Legal frames the leading-member matcher does not recognise go to goccy
// and parse as the plain frame does: an escaped key, a key that extends
// "e", a string value holding `"e":`, every RFC 8259 whitespace kind.
func TestS27rvFastSplitLegalForms(t *testing.T) {
	ctx := context.Background()
	body := `"E":1,"s":"BTCUSDT","t":1,"p":"1.0","q":"1.0","T":1,"m":true}`
	for name, in := range map[string]string{
		"plain":          `{"e":"trade",` + body,
		"escaped key":    `{"\u0065":"trade",` + body,
		"ws kinds":       " \t\r\n{ \t\r\n\"e\" \t\r\n: \t\r\n\"trade\" \t\r\n," + body,
		"combined ws":    "{ \"stream\" :\t\"btcusdt@trade\"\r\n,\n\"data\" : {\"e\":\"trade\"," + body + " \n}\n",
		"extra after":    `{"stream":"btcusdt@trade","data":{"e":"trade",` + body + `,"x":1}`,
		"data then name": `{"data":{"e":"trade",` + body + `,"stream":"btcusdt@trade"}`,
	} {
		t.Run(name, func(t *testing.T) {
			events := schema.NewPools(nil).Events
			sink := &putSink{events: events}
			p := ctorOf["binance"](events, sink, nil)
			err := p.HandleBytes(ctx, []byte(in), 1)
			assert.NoError(t, err, in)
		})
	}
}
