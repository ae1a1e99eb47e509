package normalize

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// The parser decides gaps and repeats with each venue's continuity rule
// (normalize/internal/continuity), the one normalize/book uses.

func TestContinuityBinanceFutures(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	ctx := context.Background()
	require.NoError(t, p.HandleSnapshot(ctx, "BTCUSDT", []byte(`{"lastUpdateId":1000,"bids":[],"asks":[]}`), 1))
	for _, d := range [][3]int{{995, 1003, 990}, {1009, 1014, 1003}, {1016, 1020, 1014}} {
		msg := fmt.Sprintf(`{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":%d,"u":%d,"pu":%d,"b":[],"a":[]}`, d[0], d[1], d[2])
		require.NoError(t, p.HandleBytes(ctx, []byte(msg), 1))
	}
	require.Len(t, sink.got, 4)
	require.Zero(t, p.Stats().Gaps)
	require.Equal(t, uint64(1020), sink.got[3].Book.LastSeq)
	// pu not the previous u: a gap naming the range.
	require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":1030,"u":1035,"pu":1025,"b":[],"a":[]}`), 1))
	require.Equal(t, uint64(1), p.Stats().Gaps)
	g := sink.got[4]
	require.Equal(t, schema.EventGap, g.Type)
	require.NotZero(t, g.Control.GapLastSeq)
	// The same diff again: a repeat.
	require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":1030,"u":1035,"pu":1025,"b":[],"a":[]}`), 1))
	require.Equal(t, uint64(1), p.Stats().Repeats)
	require.Equal(t, uint64(1), p.Stats().Gaps)
}

func okxBook(action string, prev, seq int, levels bool) []byte {
	lv := ""
	if levels {
		lv = `["1","1","0","1"]`
	}
	return []byte(fmt.Sprintf(`{"arg":{"channel":"books","instId":"BTC-USDT"},"action":%q,"data":[{"asks":[%s],"bids":[],"ts":"1","checksum":0,"prevSeqId":%d,"seqId":%d}]}`, action, lv, prev, seq))
}

func TestContinuityOKX(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueOKX)
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, okxBook("snapshot", -1, 100, true), 1))
	require.NoError(t, p.HandleBytes(ctx, okxBook("update", 100, 105, true), 1))
	require.NoError(t, p.HandleBytes(ctx, okxBook("update", 105, 105, false), 1)) // keep-alive
	require.NoError(t, p.HandleBytes(ctx, okxBook("update", 105, 20, true), 1))   // reset after maintenance
	require.NoError(t, p.HandleBytes(ctx, okxBook("update", 20, 25, true), 1))
	require.Zero(t, p.Stats().Gaps)
	require.NoError(t, p.HandleBytes(ctx, okxBook("update", 20, 25, true), 1)) // again: a repeat
	require.Equal(t, uint64(1), p.Stats().Repeats)
	require.NoError(t, p.HandleBytes(ctx, okxBook("update", 30, 31, true), 1))
	require.Equal(t, uint64(1), p.Stats().Gaps)
	require.Len(t, sink.got, 7) // 5 + gap + diff
}

func bybitBook(typ string, u int) []byte {
	return []byte(fmt.Sprintf(`{"topic":"orderbook.50.BTCUSDT","type":%q,"ts":1,"data":{"s":"BTCUSDT","b":[["1","1"]],"a":[],"u":%d,"seq":1},"cts":1}`, typ, u))
}

func TestContinuityBybit(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueBybit)
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, bybitBook("snapshot", 10), 1))
	require.NoError(t, p.HandleBytes(ctx, bybitBook("delta", 11), 1))
	require.NoError(t, p.HandleBytes(ctx, bybitBook("delta", 12), 1))
	require.NoError(t, p.HandleBytes(ctx, bybitBook("snapshot", 1), 1)) // the service restarted
	require.NoError(t, p.HandleBytes(ctx, bybitBook("delta", 2), 1))
	require.Zero(t, p.Stats().Gaps)
	require.NoError(t, p.HandleBytes(ctx, bybitBook("delta", 2), 1))
	require.Equal(t, uint64(1), p.Stats().Repeats)
	require.NoError(t, p.HandleBytes(ctx, bybitBook("delta", 5), 1))
	require.Equal(t, uint64(1), p.Stats().Gaps)
	g := sink.got[len(sink.got)-2]
	require.Equal(t, &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapCount: 2, GapFirstSeq: 3, GapLastSeq: 4, Reason: g.Control.Reason}, g.Control)
}

func coinbaseFrame(seq int) []byte { return coinbaseTradeFrame(seq, seq) }

// coinbaseTradeFrame is a market_trades frame of sequence_num seq with one
// trade, id.
func coinbaseTradeFrame(seq, id int) []byte {
	return []byte(fmt.Sprintf(`{"channel":"market_trades","timestamp":"2024-01-01T00:00:00Z","sequence_num":%d,"events":[{"type":"update","trades":[{"trade_id":"%d","product_id":"BTC-USD","price":"1","size":"1","side":"BUY","time":"2024-01-01T00:00:00Z"}]}]}`, seq, id))
}

// Coinbase: sequence_num counts a connection's messages; a jump is one gap
// marker for the whole connection (no symbol, GapType unknown), a repeat
// is dropped, and a new connection starts again.
func TestContinuityCoinbaseConnection(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueCoinbase)
	ctx := context.Background()
	frame := func(conn uint64, seq int) error {
		return p.(*Parser).HandleFrame(ctx, &schema.WsFrame{Provider: schema.VenueCoinbase, ConnID: conn, Data: coinbaseFrame(seq), ReceivedAt: 1})
	}
	require.NoError(t, frame(1, 1))
	require.NoError(t, frame(1, 2))
	require.NoError(t, frame(1, 2)) // again
	require.Equal(t, uint64(1), p.Stats().Repeats)
	require.NoError(t, frame(1, 5))
	require.Equal(t, uint64(1), p.Stats().Gaps)
	g := sink.got[2]
	require.Equal(t, schema.EventGap, g.Type)
	require.Empty(t, g.Symbol)
	require.Equal(t, schema.EventUnknown, g.Control.GapType)
	require.Equal(t, uint64(3), g.Control.GapFirstSeq)
	require.Equal(t, uint64(4), g.Control.GapLastSeq)
	// A new connection: its sequence_num starts again; its trade ids go on.
	require.NoError(t, p.(*Parser).HandleFrame(ctx, &schema.WsFrame{Provider: schema.VenueCoinbase, ConnID: 2, Data: coinbaseTradeFrame(1, 6), ReceivedAt: 1}))
	require.Equal(t, uint64(1), p.Stats().Gaps)
	require.Len(t, sink.got, 5)
}

// Coinbase during a make-before-break rotation: the old and the new
// connection's frames interleave, each with its own sequence_num; a gap on
// either is seen, and switching between them is neither a gap nor a
// restart of the other's count.
func TestContinuityCoinbaseRotationInterleaved(t *testing.T) {
	p, _ := newTestVenue(t, schema.VenueCoinbase)
	ctx := context.Background()
	frame := func(conn uint64, seq, id int) {
		t.Helper()
		require.NoError(t, p.(*Parser).HandleFrame(ctx, &schema.WsFrame{Provider: schema.VenueCoinbase, ConnID: conn, Data: coinbaseTradeFrame(seq, id), ReceivedAt: 1}))
	}
	frame(1, 1, 1)
	frame(1, 2, 2)
	frame(2, 1, 3) // the new connection opens
	frame(1, 3, 4)
	frame(2, 2, 5)
	require.Zero(t, p.Stats().Gaps)
	frame(1, 3, 6) // a repeat on the old connection, after a frame of the new
	require.Equal(t, uint64(1), p.Stats().Repeats)
	frame(1, 6, 7) // the old connection lost 4 and 5
	require.Equal(t, uint64(1), p.Stats().Gaps)
	frame(2, 4, 8) // the new one lost 3
	require.Equal(t, uint64(2), p.Stats().Gaps)
	// A third connection replaces the one that sent least recently (1);
	// 2 keeps its count.
	frame(3, 1, 9)
	frame(2, 5, 10)
	require.Equal(t, uint64(2), p.Stats().Gaps)
	frame(1, 1, 11) // 1 starts again: forgotten
	require.Equal(t, uint64(2), p.Stats().Gaps)
}

// OKX numbers a book's messages per instrument, not per channel ("Order
// book channel", Sequence ID: "Each instId has an unique set of sequence
// ID"), and refuses books-l2-tbt beside books or books50-l2-tbt for one
// symbol ("Users can not simultaneously subscribe to books-l2-tbt and
// books50-l2-tbt/books channels for the same trading symbol"). books and
// books-l2-tbt, both 400 levels, are therefore one stream of the symbol:
// should both reach one parser (two connections, a rotation from one
// channel to the other), the aggregated books message whose ids the
// tick-by-tick ones already covered is a repeat, and the tick-by-tick ones
// it covered are repeats: no gap either way. books50-l2-tbt is a view of
// its own (Book.Depth 50).
func TestContinuityOKXChannelsShareInstrumentNumbering(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueOKX)
	ctx := context.Background()
	msg := func(ch, action string, prev, seq int) []byte {
		return []byte(fmt.Sprintf(`{"arg":{"channel":%q,"instId":"BTC-USDT"},"action":%q,"data":[{"asks":[["1","1","0","1"]],"bids":[],"ts":"1","checksum":0,"prevSeqId":%d,"seqId":%d}]}`, ch, action, prev, seq))
	}
	for _, m := range [][]byte{
		msg("books-l2-tbt", "snapshot", -1, 10),
		msg("books-l2-tbt", "update", 10, 11),
		msg("books-l2-tbt", "update", 11, 13),
		msg("books", "update", 10, 13), // books aggregates 10→13: covered
		msg("books", "update", 13, 17), // books first this time
		msg("books-l2-tbt", "update", 13, 15),
		msg("books-l2-tbt", "update", 15, 17),
		msg("books-l2-tbt", "update", 17, 18),
		msg("books50-l2-tbt", "snapshot", -1, 18),
		msg("books50-l2-tbt", "update", 18, 19),
	} {
		require.NoError(t, p.HandleBytes(ctx, m, 1), "%s", m)
	}
	require.Zero(t, p.Stats().Gaps)
	require.Equal(t, uint64(3), p.Stats().Repeats)
	depths := map[int]int{}
	for _, ev := range sink.got {
		depths[ev.Book.Depth]++
	}
	require.Equal(t, map[int]int{400: 5, 50: 2}, depths)
}
