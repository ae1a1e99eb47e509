package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Kraken WebSocket v2 "ticker" documents "last" as "Last traded price
// (only guaranteed if traded within the past 24 hours)": a pair without a
// trade for a day may send its ticker without it. Required, every such
// ticker was refused and the pair's best bid/ask never served. Failed
// before the fix (ErrMissingField "last"); bid and ask stay required.
func TestS29KrakenTickerWithoutLast(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewKraken(events, sink, nil)
	msg := `{"channel":"ticker","type":"snapshot","data":[{"symbol":"BTC/USD","bid":65843.7,"bid_qty":12.31628629,"ask":65843.8,"ask_qty":0.31232000,"volume":0,"vwap":0,"low":0,"high":0,"change":0,"change_pct":0}]}`
	require.NoError(t, p.HandleBytes(context.Background(), []byte(msg), 1))
	require.Len(t, sink.got, 1)
	x := sink.got[0].Ticker
	requireDigits(t, "65843.7", x.BidPrice)
	requireDigits(t, "65843.8", x.AskPrice)
	require.True(t, x.Last.IsZero())
}
