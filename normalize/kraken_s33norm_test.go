package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A Kraken v2 book update whose message does not decode (a bad level, a
// wrong-typed member) is lost: its gap marker must name the view its
// symbol's ack named (Kraken WebSocket v2 "book": "result":{"depth":…}),
// so that a subscriber of the 25-level book hears of it, as it names it
// for a frame whose envelope did not decode. A marker of view 0 reaches
// only books that follow no view.
func TestS33KrakenV2BookMessageLostNamesView(t *testing.T) {
	ack := `{"method":"subscribe","req_id":11,"result":{"channel":"book","depth":25,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2024-05-19T16:27:13.694962Z","time_out":"2024-05-19T16:27:13.695006Z"}`
	for _, c := range []struct{ name, msg string }{
		{"bad level", `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":"x","qty":0.5}],"asks":[],"checksum":1,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`},
		{"wrong-typed checksum", `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":"one","timestamp":"2024-05-19T16:45:24.204654Z"}]}`},
		{"envelope cut", `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1,"qty":2}],"asks":[],"checksum":1}],"x":`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, gaps := feedFrames(t, NewKraken, nil, []string{ack, c.msg}, schema.EventGap)
			require.Len(t, gaps, 1, "one gap marker")
			assert.Equal(t, "BTC-USD", gaps[0].Symbol)
			assert.Equal(t, schema.EventBookUpdate, gaps[0].Control.GapType)
			assert.Equal(t, 25, gaps[0].Book.Depth, "the marker names the subscribed view")
		})
	}
}
