package normalize

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Venues offer one symbol's book at several depths, each view a stream of
// its own: Bybit v5 "Orderbook" (orderbook.1, .50, .200, .1000, each with
// its own update id u), OKX "Order book channel" (books5, books50-l2-tbt,
// books), Binance "Partial Book Depth Streams" beside the diff stream.
// Hosts subscribe a shallow view for the top and a deep one for the book.
// Each view's ids chain on their own: interleaved, they are not a gap, and
// each event names its view in Book.Depth.
func TestBookViewsAreStreamsOfTheirOwn(t *testing.T) {
	t.Parallel()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewBybit(events, sink, nil)
	msg := func(depth int, typ string, u int) string {
		return fmt.Sprintf(`{"topic":"orderbook.%d.BTCUSDT","type":"%s","ts":1672304484978,"data":{"s":"BTCUSDT","b":[["16493.50","0.006"]],"a":[["16611.00","0.029"]],"u":%d,"seq":7961638724},"cts":1672304484976}`, depth, typ, u)
	}
	for _, m := range []string{
		msg(50, "snapshot", 1000), msg(1, "snapshot", 77000),
		msg(50, "delta", 1001), msg(1, "delta", 77001),
		msg(1, "delta", 77002), msg(50, "delta", 1002),
	} {
		require.NoError(t, p.HandleBytes(context.Background(), []byte(m), 1))
	}
	require.Len(t, sink.got, 6)
	for i, ev := range sink.got {
		require.NotEqual(t, schema.EventGap, ev.Type, "event %d: a view's ids are not the other view's", i)
		require.Contains(t, []int{1, 50}, ev.Book.Depth, "event %d names its view", i)
	}
	require.Equal(t, 50, sink.got[0].Book.Depth)
	require.Equal(t, 1, sink.got[1].Book.Depth)

	// A real gap in one view is still one marker, naming that view.
	sink.got = nil
	require.NoError(t, p.HandleBytes(context.Background(), []byte(msg(1, "delta", 77009)), 1))
	require.Len(t, sink.got, 2)
	require.Equal(t, schema.EventGap, sink.got[0].Type)
	require.Equal(t, 1, sink.got[0].Book.Depth)
	require.Equal(t, uint64(77003), sink.got[0].Control.GapFirstSeq)
	require.Equal(t, uint64(77008), sink.got[0].Control.GapLastSeq)
	require.Zero(t, p.Stats().Errors)
}

// The depth each venue's view names.
func TestBookViewDepths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		venue schema.Venue
		msg   string
		depth int
	}{
		{schema.VenueBinance, `{"stream":"btcusdt@depth5@100ms","data":{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}}`, 5},
		{schema.VenueBinance, `{"stream":"btcusdt@depth20","data":{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}}`, 20},
		{schema.VenueBinance, `{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":157,"u":160,"b":[["0.0024","10"]],"a":[]}}`, 0},
		{schema.VenueOKX, `{"arg":{"channel":"books5","instId":"BTC-USDT"},"data":[{"asks":[["8476.98","415","0","13"]],"bids":[["8476.97","256","0","12"]],"instId":"BTC-USDT","ts":"1597026383085","seqId":123457}]}`, 5},
		{schema.VenueOKX, `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["8476.98","415","0","13"]],"bids":[["8476.97","256","0","12"]],"ts":"1597026383085","checksum":0,"prevSeqId":-1,"seqId":123456}]}`, 400},
		{schema.VenueOKX, `{"arg":{"channel":"books50-l2-tbt","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["8476.98","415","0","13"]],"bids":[["8476.97","256","0","12"]],"ts":"1597026383085","checksum":0,"prevSeqId":-1,"seqId":123456}]}`, 50},
		{schema.VenueKraken, `[1,{"a":[["5541.30000","2.50700000","1534614248.456738"]],"c":"974942666"},"book-25","XBT/USD"]`, 25},
		{schema.VenueKraken, `{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":1.0,"qty":1.0}],"asks":[{"price":2.0,"qty":1.0}],"checksum":0}]}`, 0}, // no ack, and 1 level a side: no view said (s30norm)
		{schema.VenueBybit, `{"topic":"orderbook.200.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[["1","1"]],"a":[["2","1"]],"u":5}}`, 200},
	}
	for _, tt := range tests {
		events := schema.NewPools(nil).Events
		sink := &recSink{events: events}
		p := newVenueParser(tt.venue, events, sink)
		require.NoError(t, p.HandleBytes(context.Background(), []byte(tt.msg), 1), tt.msg)
		require.Len(t, sink.got, 1, tt.msg)
		require.Equal(t, tt.depth, sink.got[0].Book.Depth, tt.msg)
	}
}

// Bybit's RPI book (Bybit v5 "RPI Orderbook", orderbook.rpi.{symbol}):
// levels [price, non-RPI size, RPI size], its own u, a level whose
// non-RPI size is 0 still holding RPI size, crossed by design. Read as
// [price, quantity] it would delete levels that are there and break the
// orderbook.50 stream's ids: it is not normalised, only counted unknown.
func TestBybitRPIBookNotMerged(t *testing.T) {
	t.Parallel()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewBybit(events, sink, nil)
	ctx := context.Background()
	ob := func(u int) []byte {
		return fmt.Appendf(nil, `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["1","1"]],"a":[],"u":%d,"seq":1},"cts":1}`, u)
	}
	require.NoError(t, p.HandleBytes(ctx, []byte(`{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[["1","1"]],"a":[["2","1"]],"u":100,"seq":1},"cts":1}`), 1))
	require.NoError(t, p.HandleBytes(ctx, ob(101), 2))
	rpi := `{"topic":"orderbook.rpi.BTCUSDT","ts":1752472188075,"type":"delta","data":{"s":"BTCUSDT","b":[["121975.1","0.114259","0"],["121969.9","0","0"],["121960.5","0","0.163986"]],"a":[["121990.8","0.441585","0.78821"]],"u":2258980,"seq":79683241099},"cts":1752472188067}`
	require.NoError(t, p.HandleBytes(ctx, []byte(rpi), 3))
	require.NoError(t, p.HandleBytes(ctx, ob(102), 4))
	require.Len(t, sink.got, 3)
	for _, ev := range sink.got {
		require.NotEqual(t, schema.EventGap, ev.Type)
		require.Equal(t, 50, ev.Book.Depth)
	}
	require.Equal(t, uint64(1), p.Stats().Unknown)
}

// Binance USDⓈ-M's RPI diff stream ("RPI Diff. Book Depth Streams",
// <symbol>@rpiDepth@500ms) has the diff's shape but is another book, its
// pu chaining on its own: it is not read as the symbol's diffs.
func TestBinanceRPIDepthNotMerged(t *testing.T) {
	t.Parallel()
	p, sink, _ := newRecParser(t, nil)
	ctx := context.Background()
	diff := func(stream string, first, last, prev int) []byte {
		return fmt.Appendf(nil, `{"stream":"btcusdt@%s","data":{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":%d,"u":%d,"pu":%d,"b":[["1","1"]],"a":[]}}`, stream, first, last, prev)
	}
	require.NoError(t, p.HandleBytes(ctx, diff("depth@100ms", 10, 20, 9), 1))
	require.NoError(t, p.HandleBytes(ctx, diff("rpiDepth@500ms", 5, 25, 4), 2))
	require.NoError(t, p.HandleBytes(ctx, diff("depth@100ms", 21, 30, 20), 3))
	require.Len(t, sink.got, 2)
	for _, ev := range sink.got {
		require.Equal(t, schema.EventBookUpdate, ev.Type)
	}
	require.Equal(t, uint64(1), p.Stats().Unknown)
}
