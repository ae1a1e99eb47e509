package meltica_test

import (
	"context"
	"fmt"
	"hash/crc32"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
)

// s31ctWireBook is a venue parser feeding a book through book.Books, as
// the package doc wires it, with what reaches the host kept.
type s31ctWireBook struct {
	t      *testing.T
	pools  *schema.Pools
	sink   *s29ctBookSink
	books  *book.Books
	b      *book.Book
	parser *normalize.Parser
	mu     sync.Mutex
	resubs int
	ts     int64
}

func newS31ctWireBook(t *testing.T, rule book.Rule, symbol string,
	parser func(*schema.Pools, normalize.Sink) *normalize.Parser) *s31ctWireBook {
	w := &s31ctWireBook{t: t, pools: schema.NewPools(nil), ts: 1_700_000_000_000_000_000}
	w.sink = &s29ctBookSink{events: w.pools.Events}
	w.books = book.NewBooks(w.sink, w.pools.Events, nil)
	t.Cleanup(w.books.Close)
	b, err := book.NewBook(rule, symbol, &book.Options{Sink: w.sink, Events: w.pools.Events,
		Resubscribe: func(context.Context, schema.Venue, string) error {
			w.mu.Lock()
			w.resubs++
			w.mu.Unlock()
			return nil
		}})
	require.NoError(t, err)
	w.books.Add(b)
	w.b = b
	w.parser = parser(w.pools, w.books)
	return w
}

// feed hands one venue message to the parser; the parser's error, if
// any, is returned (a refused message is announced, not fatal).
func (w *s31ctWireBook) feed(msg string) error {
	w.ts += 1_000_000
	return w.parser.HandleBytes(context.Background(), []byte(msg), w.ts)
}

func (w *s31ctWireBook) gaps() int {
	w.sink.mu.Lock()
	defer w.sink.mu.Unlock()
	return len(w.sink.gaps)
}

func (w *s31ctWireBook) resubscribes() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.resubs
}

// levels renders the book's best n levels a side, "bids | asks".
func (w *s31ctWireBook) levels(n int) string {
	w.t.Helper()
	dst, err := w.pools.Events.Get(context.Background())
	require.NoError(w.t, err)
	defer w.pools.Events.Put(dst)
	if !w.b.Top(n, dst) {
		return "not live"
	}
	side := func(ls []schema.Level) string {
		var out []string
		for _, l := range ls {
			out = append(out, l.Price.String()+"x"+l.Qty.String())
		}
		return strings.Join(out, " ")
	}
	return side(dst.Book.Bids) + " | " + side(dst.Book.Asks)
}

func s31ctBybitBook(typ string, u uint64, bids, asks string) string {
	return fmt.Sprintf(`{"topic":"orderbook.50.BTCUSDT","type":%q,"ts":1672304484978,"data":{"s":"BTCUSDT","b":[%s],"a":[%s],"u":%d,"seq":%d},"cts":1672304484976}`,
		typ, bids, asks, u, 7961638724+s34ctBybitSeq.Add(1)) // generated in the order built (s34ctBybitSeq)
}

// Bybit v5 "Orderbook": a snapshot, then deltas whose u goes up by one;
// "If you receive a new snapshot message, you will have to reset your
// local orderbook"; a delta with u = 1 is the service's restart, its data
// a snapshot ("please overwrite your local orderbook"). So after the
// restart none of the book from before it may survive — the user reads
// exactly the restart's levels — and the deltas chain from u = 1 on. A
// delta that skips an id is a gap: announced once, nothing served, a
// resubscription asked, and the next snapshot makes the book live again.
func TestS31ctBybitRestartReplacesTheBookAndGapsAreAnnounced(t *testing.T) {
	w := newS31ctWireBook(t, book.Bybit, "BTC-USDT", func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewBybit(p.Events, s, nil)
	})
	require.NoError(t, w.feed(s31ctBybitBook("snapshot", 500,
		`["100.0","1"],["99.0","2"],["98.0","3"]`, `["101.0","1"],["102.0","2"]`)))
	require.NoError(t, w.feed(s31ctBybitBook("delta", 501, `["100.5","4"]`, `["101.0","0"]`)))
	assert.Equal(t, "100.5x4 100.0x1 99.0x2 98.0x3 | 102.0x2", w.levels(10))

	// The restart: a delta with u = 1 whose data is the whole book.
	require.NoError(t, w.feed(s31ctBybitBook("delta", 1, `["97.0","5"]`, `["97.5","6"],["103.0","7"]`)))
	assert.Equal(t, "97.0x5 | 97.5x6 103.0x7", w.levels(10), "only the restart's levels; nothing from before it")
	require.NoError(t, w.feed(s31ctBybitBook("delta", 2, `["97.1","1"]`, `["103.0","0"]`)))
	assert.Equal(t, "97.1x1 97.0x5 | 97.5x6", w.levels(10))
	assert.Zero(t, w.gaps(), "a restart is no gap: %v", w.sink.gaps)
	assert.Equal(t, uint64(1), w.b.Stats().Restarts)

	// u = 4 after 2: message 3 was lost.
	_ = w.feed(s31ctBybitBook("delta", 4, `["97.2","1"]`, ""))
	assert.Equal(t, "not live", w.levels(10), "a book with a hole serves nothing")
	// The parser's marker (about the diffs) and the book's (about the
	// book): announced, once each.
	marked := w.gaps()
	assert.Positive(t, marked, "the gap announced")
	assert.LessOrEqual(t, marked, 2, "%v", w.sink.gaps)
	assert.Equal(t, 1, w.resubscribes(), "a resubscription asked")
	_ = w.feed(s31ctBybitBook("delta", 5, `["97.3","1"]`, ""))
	assert.Equal(t, "not live", w.levels(10), "still nothing before the snapshot")
	assert.Equal(t, marked, w.gaps(), "no more markers for the same breakage: %v", w.sink.gaps)
	require.NoError(t, w.feed(s31ctBybitBook("snapshot", 6, `["96.0","1"]`, `["96.5","1"]`)))
	assert.Equal(t, "96.0x1 | 96.5x1", w.levels(10), "live again on the new snapshot alone")
}

// Coinbase Advanced Trade "level2" channel: every message of a connection
// carries sequence_num, counted across all channels ("WebSocket
// Overview → Sequence Numbers": a missing one means a message was
// dropped). A jump must invalidate the book — announced, nothing served —
// and the next level2 snapshot makes it live again, holding only the
// snapshot's levels.
func TestS31ctCoinbaseSequenceGapInvalidatesTheBook(t *testing.T) {
	w := newS31ctWireBook(t, book.Coinbase, "BTC-USD", func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewCoinbase(p.Events, s, nil)
	})
	l2 := func(seq int, typ string, updates string) string {
		return fmt.Sprintf(`{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":%d,"events":[{"type":%q,"product_id":"BTC-USD","updates":[%s]}]}`, seq, typ, updates)
	}
	u := func(side, px, qty string) string {
		return fmt.Sprintf(`{"side":%q,"event_time":"2023-02-09T20:32:50.714964855Z","price_level":%q,"new_quantity":%q}`, side, px, qty)
	}
	require.NoError(t, w.feed(l2(0, "snapshot", u("bid", "100.00", "1")+","+u("bid", "99.00", "2")+","+u("offer", "101.00", "3"))))
	require.NoError(t, w.feed(l2(1, "update", u("bid", "100.50", "4"))))
	assert.Equal(t, "100.50x4 100.00x1 99.00x2 | 101.00x3", w.levels(10))

	// sequence_num 2 lost (it removed 100.50).
	_ = w.feed(l2(3, "update", u("offer", "101.50", "5")))
	assert.Equal(t, "not live", w.levels(10), "a book that missed a message serves nothing")
	assert.Positive(t, w.gaps(), "the loss announced")
	require.NoError(t, w.feed(l2(4, "snapshot", u("bid", "100.00", "1")+","+u("offer", "101.00", "3")+","+u("offer", "101.50", "5"))))
	assert.Equal(t, "100.00x1 | 101.00x3 101.50x5", w.levels(10), "live again on the snapshot's levels alone")
}

// s31ctKrakenSum is Kraken's book checksum ("Spot WebSocket v2 → Book
// checksum"): the top 10 asks (best first) then the top 10 bids, each
// price and quantity written at the pair's precision without the point
// and without leading zeros, concatenated; the CRC32 of that string.
func s31ctKrakenSum(bids, asks [][2]string) uint32 {
	var sb strings.Builder
	put := func(ls [][2]string) {
		for i, l := range ls {
			if i == 10 {
				break
			}
			for _, v := range l {
				sb.WriteString(strings.TrimLeft(strings.ReplaceAll(v, ".", ""), "0"))
			}
		}
	}
	put(asks)
	put(bids)
	return crc32.ChecksumIEEE([]byte(sb.String()))
}

func s31ctKrakenBook(typ string, bids, asks [][2]string, sum uint32) string {
	side := func(ls [][2]string) string {
		var parts []string
		for _, l := range ls {
			parts = append(parts, fmt.Sprintf(`{"price":%s,"qty":%s}`, l[0], l[1]))
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprintf(`{"channel":"book","type":%q,"data":[{"symbol":"BTC/USD","bids":[%s],"asks":[%s],"checksum":%d,"timestamp":"2023-10-06T17:35:55.440295Z"}]}`,
		typ, side(bids), side(asks), sum)
}

// Kraken sends no ids: the checksum is the check ("Book checksum": "if
// the checksum does not match, the book must be resubscribed"). An
// update lost on the way shows as the next update's checksum not
// matching: the book must not serve the wrong levels — announced,
// nothing served, a resubscription asked — and the resubscription's
// snapshot makes it live again.
func TestS31ctKrakenChecksumCatchesALostUpdate(t *testing.T) {
	w := newS31ctWireBook(t, book.KrakenV2, "BTC-USD", func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewKraken(p.Events, s, nil)
	})
	bids := [][2]string{{"45283.5", "0.10000000"}, {"45283.0", "0.20000000"}}
	asks := [][2]string{{"45285.2", "0.00100000"}, {"45286.0", "1.50000000"}}
	require.NoError(t, w.feed(s31ctKrakenBook("snapshot", bids, asks, s31ctKrakenSum(bids, asks))))
	require.Equal(t, "45283.5x0.10000000 45283.0x0.20000000 | 45285.2x0.00100000 45286.0x1.50000000", w.levels(10))

	// Update 1 (lost on the way): 45283.5 leaves the bids.
	afterLost := [][2]string{{"45283.0", "0.20000000"}}
	// Update 2: the ask 45285.2 grows; its checksum is of the venue's
	// book, without 45283.5.
	asks2 := [][2]string{{"45285.2", "0.30000000"}, {"45286.0", "1.50000000"}}
	_ = w.feed(s31ctKrakenBook("update", nil, [][2]string{{"45285.2", "0.30000000"}}, s31ctKrakenSum(afterLost, asks2)))
	assert.Equal(t, "not live", w.levels(10), "a book the checksum proves wrong serves nothing")
	assert.Positive(t, w.gaps(), "announced")
	assert.Equal(t, 1, w.resubscribes(), "resubscribed")
	assert.Equal(t, uint64(1), w.b.Stats().ChecksumErrors)

	require.NoError(t, w.feed(s31ctKrakenBook("snapshot", afterLost, asks2, s31ctKrakenSum(afterLost, asks2))))
	assert.Equal(t, "45283.0x0.20000000 | 45285.2x0.30000000 45286.0x1.50000000", w.levels(10), "live again, the venue's book")
}

// OKX "Order book channel": on a quiet book OKX pushes a keep-alive (no
// levels, prevSeqId = seqId) about once a minute. A book judging silence
// (Options.MaxSilence 90 s, above OKX's quietest normal interval) stays
// live through ten quiet minutes of keep-alives — no marker, its levels
// served — announces the silence once when the keep-alives stop too
// (ReasonSilent, nothing served as current), and is live again with the
// next message of its stream.
func TestS31ctOKXQuietBookKeptLiveByKeepAlives(t *testing.T) {
	clk := newS27ctClock()
	x := &s30ctOKXBook{t: t, pools: schema.NewPools(nil)}
	x.sink = &s29ctBookSink{events: x.pools.Events}
	b, err := book.NewBook(book.OKX, "BTC-USDT", &book.Options{Sink: x.sink, Events: x.pools.Events,
		MaxSilence: 90 * time.Second, Clock: clk,
		Resubscribe: func(context.Context, schema.Venue, string) error { x.resubs++; return nil }})
	require.NoError(t, err)
	defer b.Close()
	x.b = b
	x.apply(schema.EventBookSnapshot, 0, 10, [][2]string{{"100.0", "1"}}, [][2]string{{"101.0", "1"}})
	require.True(t, b.Live())
	for minute := 1; minute <= 10; minute++ {
		clk.Advance(60 * time.Second)
		x.apply(schema.EventBookUpdate, 10, 10, nil, nil) // keep-alive
		require.True(t, b.Live(), "live after %d quiet minutes of keep-alives", minute)
	}
	assert.Zero(t, x.gaps(), "no marker on a quiet, healthy book: %v", x.sink.gaps)
	bbo, ok := b.BBO()
	require.True(t, ok)
	assert.Equal(t, "100.0", bbo.BidPrice.String())

	// Nothing at all from now on.
	clk.Advance(91 * time.Second)
	require.Eventually(t, func() bool { return x.gaps() == 1 }, s27ctWait, time.Millisecond, "the silence announced")
	assert.False(t, b.Live(), "a silent book is not served as current")
	_, ok = b.BBO()
	assert.False(t, ok)
	clk.Advance(10 * time.Minute)
	assert.Equal(t, 1, x.gaps(), "announced once: %v", x.sink.gaps)
	x.apply(schema.EventBookUpdate, 10, 12, [][2]string{{"100.2", "2"}}, nil)
	require.True(t, b.Live(), "live again with its stream's next message")
	bbo, ok = b.BBO()
	require.True(t, ok)
	assert.Equal(t, "100.2", bbo.BidPrice.String())
}
