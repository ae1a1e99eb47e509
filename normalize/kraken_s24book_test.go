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

// A blind venue's book message (Kraken, Coinbase: the next message cannot
// show the loss) dropped for a bad level names its symbol in its gap
// marker wherever the message puts the symbol key — before or after the
// level that failed — so that only that symbol's book resyncs.
func TestBookLostNamesSymbolAfterBadLevel(t *testing.T) {
	for _, c := range []struct {
		name, venue, msg, symbol string
	}{
		{"kraken v2 symbol after bids", "kraken", `{"channel":"book","type":"update","data":[{"bids":[{"price":"x","qty":1}],"asks":[],"symbol":"BTC/USD","checksum":1,"timestamp":"2023-10-06T17:35:55.440295Z"}]}`, "BTC-USD"},
		{"kraken v2 symbol before bids", "kraken", `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":"x","qty":1}],"asks":[],"checksum":1,"timestamp":"2023-10-06T17:35:55.440295Z"}]}`, "BTC-USD"},
		{"coinbase l2_data product_id after updates", "coinbase", `{"channel":"l2_data","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"update","updates":[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"x","new_quantity":"1"}],"product_id":"BTC-USD"}]}`, "BTC-USD"},
		{"coinbase exchange l2update product_id after changes", "coinbase", `{"type":"l2update","changes":[["buy","x","1"]],"product_id":"BTC-USD","time":"2023-02-09T20:32:50.714964Z"}`, "BTC-USD"},
		{"coinbase exchange snapshot product_id after bids", "coinbase", `{"type":"snapshot","bids":[["x","1"]],"asks":[],"product_id":"BTC-USD"}`, "BTC-USD"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, events, err := handleOne(t, c.venue, c.msg)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			require.Len(t, sink.got, 1, "one gap marker")
			require.Equal(t, schema.EventGap, sink.got[0].Type)
			assert.Equal(t, c.symbol, sink.got[0].Symbol, "the marker names the message's symbol")
			assert.Zero(t, events.Stats().InUse)
		})
	}
}

// Kraken WebSocket v2 "book": "depth: 10, 25, 100, 500, 1000; default
// 10". KrakenSubscribeBook asks for a book at a depth Kraken offers (the
// one a book's Rule.Depth must name) and refuses any other with
// ErrBadValue; the ack names it back, and the parser reads the symbol's
// book messages as that view. KrakenUnsubscribeBook undoes it.
func TestKrakenSubscribeBookDepth(t *testing.T) {
	b, err := KrakenSubscribeBook(7, 25, "BTC/USD", "ETH/USD")
	require.NoError(t, err)
	assert.JSONEq(t, `{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD","ETH/USD"],"depth":25},"req_id":7}`, string(b))
	b, err = KrakenUnsubscribeBook(7, 25, "BTC/USD")
	require.NoError(t, err)
	assert.JSONEq(t, `{"method":"unsubscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":25},"req_id":7}`, string(b))
	for _, d := range []int{0, 1, 5, 20, 50, 2000, -10} {
		_, err := KrakenSubscribeBook(1, d, "BTC/USD")
		assert.ErrorIs(t, err, ErrBadValue, "depth %d", d)
	}
	_, err = KrakenSubscribeBook(1, 10)
	assert.ErrorIs(t, err, ErrBadValue, "no pair")
}

// A Kraken v2 book frame that does not decode (truncated, or an envelope
// member of the wrong type) is a lost book message — Kraken books carry
// no ids — marked for the pairs it names, and for every book when it
// names none or is cut inside its list (more pairs may have followed:
// TestBookFrameCutInListMarksEveryBook).
func TestKrakenBookFrameLostNamesPair(t *testing.T) {
	for _, c := range []struct{ name, msg, symbol string }{
		{"truncated update", `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1,"qty":2}],"asks":[`, ""},
		{"truncated after its list", `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1,"qty":2}],"asks":[],"checksum":1}],"x":`, "BTC-USD"},
		{"bad timestamp member", `{"channel":"book","type":"update","data":[{"symbol":"ETH/USD","bids":[],"asks":[],"checksum":1}],"timestamp":5}`, "ETH-USD"},
		{"truncated before the pair", `{"channel":"book","type":"update","data":[{"bids":[{"price":1`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, events, err := handleOne(t, "kraken", c.msg)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			require.Len(t, sink.got, 1, "one gap marker")
			require.Equal(t, schema.EventGap, sink.got[0].Type)
			assert.Equal(t, c.symbol, sink.got[0].Symbol)
			assert.Zero(t, events.Stats().InUse)
		})
	}
}
