package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A ticker without an exchange time (a Binance 24hrMiniTicker whose "E"
// is missing) is compared with neither stream: it is delivered, and it
// leaves the (symbol, type) mark as it was, so it neither drops nor
// blocks the other stream's newer tickers.
func TestS31rvquoteTickerWithoutTimeNeitherDroppedNorBlocks(t *testing.T) {
	const e0 = int64(1_764_590_400_000)
	noE := []byte(`{"stream":"btcusdt@miniTicker","data":{"e":"24hrMiniTicker","s":"BTCUSDT","c":"2.00","o":"66995.00","h":"67100.00","l":"66900.00","v":"999.0","q":"66900000.0"}}`)
	p, sink, _ := newRecParser(t, nil)
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, s31quoteFull(e0+1000, 10, "1.00"), 1))
	require.NoError(t, p.HandleBytes(ctx, noE, 2))
	require.NoError(t, p.HandleBytes(ctx, s31quoteFull(e0+1100, 11, "3.00"), 3))
	require.NoError(t, p.HandleBytes(ctx, s31quoteMini(e0+1050, "4.00"), 4)) // older than the full of +1100: dropped
	require.NoError(t, p.HandleBytes(ctx, s31quoteMini(e0+1200, "5.00"), 5))
	var got []string
	for _, ev := range sink.got {
		got = append(got, ev.Ticker.Last.String())
	}
	assert.Equal(t, []string{"1.00", "2.00", "3.00", "5.00"}, got)
	assert.Equal(t, uint64(1), p.Stats().Repeats)
}

// The mark per (symbol, event type, view) is kept only for a type that two
// streams of the venue carry (Binance 24hrTicker and 24hrMiniTicker): a
// best bid/offer, whose only stream is bookTicker, costs one mark per
// symbol, not two. Failed before: 6 marks for 3 symbols' bookTickers.
func TestS31rvquoteOneStreamTypeKeepsNoTypeMark(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	ctx := context.Background()
	for i, s := range []string{"BTCUSDT", "ETHUSDT", "SOLUSDT"} {
		msg := `{"stream":"x@bookTicker","data":{"u":5,"s":"` + s + `","b":"1","B":"1","a":"2","A":"1","E":1000,"T":1000}}`
		require.NoError(t, p.HandleBytes(ctx, []byte(msg), int64(i+1)))
	}
	require.Len(t, sink.got, 3)
	assert.Len(t, p.quotes, 3)
	require.NoError(t, p.HandleBytes(ctx, s31quoteFull(1000, 10, "1.00"), 4))
	assert.Len(t, p.quotes, 5, "a ticker: its stream's mark and its type's")
}
