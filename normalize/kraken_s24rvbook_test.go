package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A book frame cut short inside its list of messages (Kraken v2 "data",
// Coinbase Advanced Trade "events": an array, Kraken WebSocket v2 "book",
// Advanced Trade "Level2 Channel") may have held more messages after the
// fault, of pairs it never named: marking only the pairs read would leave
// those books serving what they lost (Coinbase has no checksum to catch it
// later). Such a frame marks every book of the venue; one whose list was
// read to its end marks the pairs it names only.
func TestBookFrameCutInListMarksEveryBook(t *testing.T) {
	for _, c := range []struct {
		name, venue, msg string
		symbols          []string
	}{
		{"kraken cut in the first message", "kraken", `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1,"qty":2}],"asks":[`, []string{""}},
		{"kraken cut in the second message", "kraken", `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1},{"symbol":"ETH/USD","bids":[{"price":1`, []string{""}},
		{"kraken cut after the list", "kraken", `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1},{"symbol":"ETH/USD","bids":[],"asks":[],"checksum":1}],"x":`, []string{"BTC-USD", "ETH-USD"}},
		{"coinbase cut in the events", "coinbase", `{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":2,"events":[{"type":"update","product_id":"ETH-USD","updates":[{"side":"bid","price_level":"1"`, []string{""}},
		{"coinbase cut after the events", "coinbase", `{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":2,"events":[{"type":"update","product_id":"ETH-USD","updates":[]}],"x":`, []string{"ETH-USD"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, events, err := handleOne(t, c.venue, c.msg)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			var got []string
			for _, ev := range sink.got {
				require.Equal(t, schema.EventGap, ev.Type)
				got = append(got, ev.Symbol)
			}
			assert.Equal(t, c.symbols, got)
			assert.Zero(t, events.Stats().InUse)
		})
	}
}
