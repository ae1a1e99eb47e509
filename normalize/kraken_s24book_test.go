package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A Kraken v2 book message whose "type" is missing or not one Kraken
// documents (Kraken WebSocket v2 "book": "snapshot" or "update") is
// dropped; its gap marker names the pair the message names, at the depth
// its subscription ack gave, so that only that pair's book resyncs — not
// every Kraken book on the connection. A message whose pair cannot be
// read still marks every book (no symbol).
func TestKrakenBookWithoutTypeMarksItsPair(t *testing.T) {
	const ack = `{"method":"subscribe","result":{"channel":"book","depth":25,"snapshot":true,"symbol":"ETH/USD"},"success":true,"time_in":"2023-09-25T09:04:31.742599Z","time_out":"2023-09-25T09:04:31.742648Z"}`
	for _, c := range []struct {
		name, msg, symbol string
		depth             int
	}{
		{"no type", `{"channel":"book","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":0}]}`, "BTC-USD", 0},
		{"unknown type", `{"channel":"book","type":"partial","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":0}]}`, "BTC-USD", 0},
		{"no type, acked depth", `{"channel":"book","data":[{"symbol":"ETH/USD","bids":[],"asks":[],"checksum":0}]}`, "ETH-USD", 25},
		{"no type, pair unreadable", `{"channel":"book","data":[{"bids":[],"asks":[],"checksum":0}]}`, "", 0},
		{"no type, no data", `{"channel":"book"}`, "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := NewKraken(events, sink, nil)
			ctx := context.Background()
			require.NoError(t, p.HandleBytes(ctx, []byte(ack), 1))
			sink.got = nil
			err := p.HandleBytes(ctx, []byte(c.msg), 2)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "type", pe.Field)
			require.Len(t, sink.got, 1, "one gap marker")
			ev := sink.got[0]
			require.Equal(t, schema.EventGap, ev.Type)
			assert.Equal(t, schema.EventBookUpdate, ev.Control.GapType)
			assert.Equal(t, c.symbol, ev.Symbol, "the marker names the message's pair")
			assert.Equal(t, c.depth, ev.Book.Depth, "the marker names the pair's view")
			assert.Zero(t, events.Stats().InUse)
		})
	}
}
