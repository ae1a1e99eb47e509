package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Two Kraken v2 books on one connection: a book message of one pair that
// is dropped — its "type" missing, or a level that does not decode before
// its "symbol" key — resyncs that pair's book only (Kraken sends no ids:
// the marker is the only sign of the loss, and the pair is readable); the
// other pair's book stays live and keeps its quote.
func TestKrakenDroppedMessageMarksItsPairOnly(t *testing.T) {
	for _, bad := range []string{
		`{"channel":"book","data":[{"symbol":"ETH/USD","bids":[],"asks":[],"checksum":0}]}`,
		`{"channel":"book","type":"update","data":[{"bids":[{"price":"x","qty":1}],"asks":[],"symbol":"ETH/USD","checksum":1,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`,
	} {
		events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
		sink := &recSink{events: events}
		books := NewBooks(sink, events, nil)
		resubs := map[string]int{}
		var all []*Book
		for _, sym := range []string{"BTC-USD", "ETH-USD"} {
			b, err := NewBook(KrakenV2, sym, &Options{Sink: sink, Events: events,
				Resubscribe: func(_ context.Context, _ schema.Venue, s string) error { resubs[s]++; return nil }})
			require.NoError(t, err)
			books.Add(b)
			all = append(all, b)
		}
		p := normalize.NewKraken(events, books, nil)
		ctx := context.Background()
		for _, f := range []string{
			`{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":100,"qty":1}],"asks":[{"price":101,"qty":1}],"checksum":0}]}`,
			`{"channel":"book","type":"snapshot","data":[{"symbol":"ETH/USD","bids":[{"price":10,"qty":1}],"asks":[{"price":11,"qty":1}],"checksum":0}]}`,
		} {
			require.NoError(t, p.HandleBytes(ctx, []byte(f), 1))
		}
		require.True(t, all[0].Live())
		require.True(t, all[1].Live())
		var pe *normalize.ParseError
		require.ErrorAs(t, p.HandleBytes(ctx, []byte(bad), 2), &pe)
		require.True(t, all[0].Live(), "BTC-USD lost nothing: %s", bad)
		require.False(t, all[1].Live(), "ETH-USD lost a message: %s", bad)
		require.Equal(t, map[string]int{"ETH-USD": 1}, resubs)
		require.Zero(t, events.Stats().InUse)
	}
}
