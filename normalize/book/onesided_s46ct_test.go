package book_test

import (
	"context"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s46ctSink is a host's sink after Books: it keeps each EventBBO's section
// and gap marker reason, and gives every event back to its pool.
type s46ctSink struct {
	events *pool.Pool[*schema.CanonicalEvent]
	mu     sync.Mutex
	bbos   []schema.BBO
	gaps   []string
}

func (s *s46ctSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.mu.Lock()
	switch ev.Type {
	case schema.EventBBO:
		s.bbos = append(s.bbos, ev.BBO)
	case schema.EventGap:
		s.gaps = append(s.gaps, ev.ControlOrZero().Reason)
	}
	s.mu.Unlock()
	s.events.Put(ev)
	return nil
}

func (s *s46ctSink) lastBBO(t *testing.T) schema.BBO {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.bbos, "no best bid/offer published")
	return s.bbos[len(s.bbos)-1]
}

// s46ctVenue writes a venue's book messages: a snapshot of one bid at 100
// and one ask at 101 (qty 1), then diffs of one level each, numbered on.
type s46ctVenue struct {
	name   string
	rule   book.Rule
	symbol string
	parser func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser
	snap   func() string
	diff   func(n int, bid bool, price, qty string) string // n = 1, 2, … after the snapshot
	rest   bool                                            // a Binance book: its snapshot from a REST server
}

func s46ctVenues() []s46ctVenue {
	return []s46ctVenue{
		{
			name: "binance", rule: book.Binance, symbol: "BTC-USDT", parser: normalize.NewBinance, rest: true,
			snap: func() string { return "" },
			diff: func(n int, bid bool, price, qty string) string {
				lv := `[["` + price + `","` + qty + `"]]`
				b, a := lv, `[]`
				if !bid {
					b, a = a, b
				}
				id := strconv.Itoa(100 + n)
				return `{"e":"depthUpdate","E":1700000000000,"s":"BTCUSDT","U":` + id + `,"u":` + id + `,"b":` + b + `,"a":` + a + `}`
			},
		},
		{
			name: "okx", rule: book.OKX, symbol: "BTC-USDT", parser: normalize.NewOKX,
			snap: func() string {
				return `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["101","1","0","1"]],"bids":[["100","1","0","1"]],"ts":"1700000000000","checksum":0,"prevSeqId":-1,"seqId":500}]}`
			},
			diff: func(n int, bid bool, price, qty string) string {
				lv := `[["` + price + `","` + qty + `","0","1"]]`
				b, a := lv, `[]`
				if !bid {
					b, a = a, b
				}
				return `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":` + a + `,"bids":` + b +
					`,"ts":"1700000000000","checksum":0,"prevSeqId":` + strconv.Itoa(499+n) + `,"seqId":` + strconv.Itoa(500+n) + `}]}`
			},
		},
		{
			name: "bybit", rule: book.Bybit, symbol: "BTC-USDT", parser: normalize.NewBybit,
			snap: func() string {
				return `{"topic":"orderbook.50.BTCUSDT","ts":1700000000000,"type":"snapshot","data":{"s":"BTCUSDT","b":[["100","1"]],"a":[["101","1"]],"u":500,"seq":9000},"cts":1700000000000}`
			},
			diff: func(n int, bid bool, price, qty string) string {
				lv := `[["` + price + `","` + qty + `"]]`
				b, a := lv, `[]`
				if !bid {
					b, a = a, b
				}
				return `{"topic":"orderbook.50.BTCUSDT","ts":1700000000000,"type":"delta","data":{"s":"BTCUSDT","b":` + b + `,"a":` + a +
					`,"u":` + strconv.Itoa(500+n) + `,"seq":` + strconv.Itoa(9000+n) + `},"cts":1700000000000}`
			},
		},
		{
			name: "kraken", rule: book.KrakenV2, symbol: "BTC-USD", parser: normalize.NewKraken,
			snap: func() string {
				return `{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":100,"qty":1}],"asks":[{"price":101,"qty":1}],"checksum":0,"timestamp":"2023-11-14T22:13:20.000000Z"}]}`
			},
			diff: func(_ int, bid bool, price, qty string) string {
				lv := `[{"price":` + price + `,"qty":` + qty + `}]`
				b, a := lv, `[]`
				if !bid {
					b, a = a, b
				}
				return `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":` + b + `,"asks":` + a + `,"checksum":0,"timestamp":"2023-11-14T22:13:20.000000Z"}]}`
			},
		},
		{
			name: "coinbase", rule: book.Coinbase, symbol: "BTC-USD", parser: normalize.NewCoinbase,
			snap: func() string {
				return `{"channel":"l2_data","timestamp":"2023-11-14T22:13:20.000000Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[` +
					`{"side":"bid","event_time":"2023-11-14T22:13:20.000000Z","price_level":"100","new_quantity":"1"},` +
					`{"side":"offer","event_time":"2023-11-14T22:13:20.000000Z","price_level":"101","new_quantity":"1"}]}]}`
			},
			diff: func(n int, bid bool, price, qty string) string {
				side := "bid"
				if !bid {
					side = "offer"
				}
				return `{"channel":"l2_data","timestamp":"2023-11-14T22:13:20.000000Z","sequence_num":` + strconv.Itoa(n) +
					`,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"` + side +
					`","event_time":"2023-11-14T22:13:20.000000Z","price_level":"` + price + `","new_quantity":"` + qty + `"}]}]}`
			},
		},
	}
}

// A venue may empty one side of a book (every bid cancelled, a thin pair,
// an auction; the venues' diffs delete the last level with quantity 0, and
// a snapshot may send the side as []). The book stays live — nothing was
// lost — and says "no bid" (or "no ask") the one way the docs give, the
// same in Book.BBO, Book.Top and the published EventBBO: a zero quantity
// and a zero price on that side, no level in Top. A later level on that
// side is the new best. Each venue's real parser and Books; Binance's
// snapshot from a REST server on loopback.
func TestS46ctOneSidedBook(t *testing.T) {
	for _, v := range s46ctVenues() {
		for _, emptied := range []string{"bids", "asks"} {
			t.Run(v.name+"/"+emptied, func(t *testing.T) {
				s46ctOneSided(t, v, emptied == "bids")
			})
		}
	}
}

// s46ctPipe is a venue's real parser feeding Books and one book of
// v.symbol, which publish to sink; Binance's snapshot from a REST server
// on loopback. start feeds the snapshot (for Binance, a first diff of a
// bid at firstBid, which fetches the snapshot it joins); diff feeds the
// next diff of one level.
type s46ctPipe struct {
	t     *testing.T
	v     s46ctVenue
	b     *book.Book
	books *book.Books
	p     *normalize.Parser
	ts    int64
	n     int
}

func s46ctNewPipe(t *testing.T, v s46ctVenue, sink normalize.Sink, events *pool.Pool[*schema.CanonicalEvent]) *s46ctPipe {
	t.Helper()
	opts := &book.Options{Sink: sink, Events: events,
		Resubscribe: func(context.Context, schema.Venue, string) error { return nil }}
	if v.rest {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"lastUpdateId":100,"bids":[["100","1"]],"asks":[["101","1"]]}`))
		}))
		t.Cleanup(srv.Close)
		opts.Fetcher = &book.BinanceREST{BaseURL: srv.URL, Client: srv.Client()}
	}
	b, err := book.NewBook(v.rule, v.symbol, opts)
	require.NoError(t, err)
	books := book.NewBooks(sink, events, nil)
	books.Add(b)
	return &s46ctPipe{t: t, v: v, b: b, books: books, p: v.parser(events, books, nil), ts: 1_700_000_000_000_000_000}
}

func (x *s46ctPipe) feed(msg string) {
	x.t.Helper()
	if msg != "" {
		x.ts += 1e6
		require.NoError(x.t, x.p.HandleBytes(context.Background(), []byte(msg), x.ts), msg)
	}
}

func (x *s46ctPipe) diff(bid bool, price, qty string) {
	x.t.Helper()
	x.n++
	x.feed(x.v.diff(x.n, bid, price, qty))
}

func (x *s46ctPipe) start(firstBid string) {
	x.t.Helper()
	x.feed(x.v.snap())
	if x.v.rest {
		x.diff(true, firstBid, "1")
	}
}

func s46ctOneSided(t *testing.T, v s46ctVenue, emptyBids bool) {
	ctx := context.Background()
	pools := schema.NewPools(&pool.Options{CaptureStacks: true})
	sink := &s46ctSink{events: pools.Events}
	x := s46ctNewPipe(t, v, sink, pools.Events)
	b, books, diff := x.b, x.books, x.diff
	x.start("99")
	require.True(t, b.Live(), "the book is live on its snapshot")

	// The venue deletes the side's only level.
	if emptyBids {
		diff(true, "100", "0")
		if v.rest {
			diff(true, "99", "0")
		}
	} else {
		diff(false, "101", "0")
	}

	q, live := b.BBO()
	require.True(t, live, "a one-sided book lost nothing: it stays live")
	require.True(t, b.Live())
	var top schema.CanonicalEvent
	require.True(t, b.Top(0, &top))
	last := sink.lastBBO(t)
	require.Equal(t, q, last, "the published best bid/offer is the book's")
	emptyPx, emptyQty, otherPx, otherQty := q.BidPrice, q.BidQty, q.AskPrice, q.AskQty
	emptyLevels, otherLevels := top.Book.Bids, top.Book.Asks
	if !emptyBids {
		emptyPx, emptyQty, otherPx, otherQty = q.AskPrice, q.AskQty, q.BidPrice, q.BidQty
		emptyLevels, otherLevels = top.Book.Asks, top.Book.Bids
	}
	require.True(t, emptyQty.IsZero(), "the emptied side has no quantity")
	require.True(t, emptyPx.IsZero(), "the emptied side has no price")
	require.Empty(t, emptyLevels, "Top gives the emptied side no level")
	require.False(t, otherQty.IsZero(), "the other side keeps its quote")
	require.False(t, otherPx.IsZero())
	require.NotEmpty(t, otherLevels)
	require.Empty(t, sink.gaps, "a one-sided book is no fault: no marker")

	// A new level on the emptied side is its best.
	if emptyBids {
		diff(true, "98.5", "2")
	} else {
		diff(false, "102.5", "2")
	}
	q, live = b.BBO()
	require.True(t, live)
	require.Equal(t, q, sink.lastBBO(t))
	px, qty := q.BidPrice, q.BidQty
	want := "98.5"
	if !emptyBids {
		px, qty, want = q.AskPrice, q.AskQty, "102.5"
	}
	require.Equal(t, want, px.String())
	require.Equal(t, "2", qty.String())
	require.Empty(t, sink.gaps)
	books.Close()
	require.NoError(t, pools.Shutdown(ctx))
	require.Zero(t, pools.Events.Stats().InUse)
}

// The docs must say what a one-sided book serves: Book.BBO's,
// schema.BBO's and schema.MergedEvent's best bid/ask doc comments name the
// empty side's zero price and quantity, so that 0 is never read as a price
// (a mid price of half the ask, a limit buy at 0).
func TestS46ctOneSidedDocumented(t *testing.T) {
	for _, c := range []struct{ file, decl string }{
		{"book.go", "func (b *Book) BBO()"},
		{"../../schema/event.go", "type BBO struct"},
		{"../../schema/merged.go", "BestBid, BestBidQty Decimal"},
	} {
		doc := s46ctDocOf(t, c.file, c.decl)
		require.Contains(t, doc, "no bid", "%s: %s", c.file, c.decl)
		require.Contains(t, doc, "zero", "%s: %s", c.file, c.decl)
	}
}

// s46ctDocOf returns the comment lines right above decl in file.
func s46ctDocOf(t *testing.T, file, decl string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), decl) {
			var doc []string
			for j := i - 1; j >= 0 && strings.HasPrefix(strings.TrimSpace(lines[j]), "//"); j-- {
				doc = append([]string{strings.TrimPrefix(strings.TrimSpace(lines[j]), "//")}, doc...)
			}
			return strings.Join(doc, " ")
		}
	}
	t.Fatalf("%s not found in %s", decl, file)
	return ""
}

// The exception the docs name: a fetched (Binance) book whose snapshot
// truncated a side (as many levels as BinanceREST.Limit asked) does not
// know that side is empty when the diffs delete every level it holds —
// the venue's levels beyond the snapshot's range never changed, so no diff
// named them — and resynchronises (ReasonRange), withdrawing its quote,
// rather than serve a one-sided book that may be wrong.
func TestS46ctOneSidedTruncatedSnapshotResyncs(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(&pool.Options{CaptureStacks: true})
	sink := &s46ctSink{events: pools.Events}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"lastUpdateId":100,"bids":[["100","1"],["99","1"],["98","1"],["97","1"],["96","1"]],"asks":[["101","1"]]}`))
	}))
	t.Cleanup(srv.Close)
	b, err := book.NewBook(book.Binance, "BTC-USDT", &book.Options{Sink: sink, Events: pools.Events,
		Fetcher: &book.BinanceREST{BaseURL: srv.URL, Client: srv.Client(), Limit: 5}})
	require.NoError(t, err)
	books := book.NewBooks(sink, pools.Events, nil)
	books.Add(b)
	p := normalize.NewBinance(pools.Events, books, nil)
	diff := func(id int, bids string) {
		t.Helper()
		msg := `{"e":"depthUpdate","E":1700000000000,"s":"BTCUSDT","U":` + strconv.Itoa(id) + `,"u":` + strconv.Itoa(id) + `,"b":` + bids + `,"a":[]}`
		require.NoError(t, p.HandleBytes(ctx, []byte(msg), int64(id)*1e6), msg)
	}
	diff(101, `[["100","2"]]`)
	require.True(t, b.Live())
	diff(102, `[["100","0"],["99","0"],["98","0"],["97","0"],["96","0"]]`)
	require.False(t, b.Live(), "a truncated side emptied is not known empty")
	sink.mu.Lock()
	require.Contains(t, sink.gaps, book.ReasonRange)
	sink.mu.Unlock()
	q := sink.lastBBO(t)
	require.True(t, q.BidQty.IsZero() && q.AskQty.IsZero(), "the quote is withdrawn, both sides: %+v", q)
	books.Close()
	require.NoError(t, pools.Shutdown(ctx))
}

// s46ctLevels is a book side as the venue wrote it: [price, qty] text,
// best first.
type s46ctLevels [][2]string

// s46ctKrakenSum is Kraken's book checksum (Kraken "Spot WebSocket v2,
// Book": the top 10 asks, best first, then the top 10 bids, each price then
// quantity with the point removed and leading zeros dropped; CRC32 of the
// string, unsigned).
func s46ctKrakenSum(bids, asks s46ctLevels) uint32 {
	var s strings.Builder
	put := func(side s46ctLevels) {
		for i, l := range side {
			if i == 10 {
				break
			}
			for _, v := range l {
				s.WriteString(strings.TrimLeft(strings.ReplaceAll(v, ".", ""), "0"))
			}
		}
	}
	put(asks)
	put(bids)
	return crc32.ChecksumIEEE([]byte(s.String()))
}

// s46ctOKXSum is OKX's book checksum (OKX v5 "Order book channel",
// checksum: bid and ask of each of the best 25 levels interleaved,
// "bid:ask:bid:ask", the longer side's rest alone where one side is
// shorter; CRC32 as a signed 32-bit integer).
func s46ctOKXSum(bids, asks s46ctLevels) int32 {
	var parts []string
	for i := range 25 {
		if i < len(bids) {
			parts = append(parts, bids[i][0]+":"+bids[i][1])
		}
		if i < len(asks) {
			parts = append(parts, asks[i][0]+":"+asks[i][1])
		}
	}
	return int32(crc32.ChecksumIEEE([]byte(strings.Join(parts, ":"))))
}

// A one-sided book where the venue checks it: Kraken's and OKX's
// checksums of a book with one side empty cover the other side alone, and
// the book — whose checksum a side emptied must not break — stays live
// through a side emptied and refilled, every checksum verified
// (Stats.Checksums), none failed.
func TestS46ctOneSidedChecksummed(t *testing.T) {
	two := [2]s46ctLevels{{{"100.0", "1.00000000"}, {"99.5", "0.50000000"}}, {{"101.0", "1.00000000"}, {"101.5", "2.00000000"}}}
	okxTwo := [2]s46ctLevels{{{"100", "1"}, {"99.5", "0.5"}}, {{"101", "1"}, {"101.5", "2"}}}
	kraken := func(typ string, bids, asks, all [2]s46ctLevels) string {
		side := func(l s46ctLevels) string {
			out := make([]string, len(l))
			for i, v := range l {
				out[i] = `{"price":` + v[0] + `,"qty":` + v[1] + `}`
			}
			return "[" + strings.Join(out, ",") + "]"
		}
		return `{"channel":"book","type":"` + typ + `","data":[{"symbol":"BTC/USD","bids":` + side(bids[0]) + `,"asks":` + side(asks[1]) +
			`,"checksum":` + strconv.FormatUint(uint64(s46ctKrakenSum(all[0], all[1])), 10) + `,"timestamp":"2023-11-14T22:13:20.000000Z"}]}`
	}
	okxSeq := int64(500)
	okx := func(action string, bids, asks, all [2]s46ctLevels) string {
		side := func(l s46ctLevels) string {
			out := make([]string, len(l))
			for i, v := range l {
				out[i] = `["` + v[0] + `","` + v[1] + `","0","1"]`
			}
			return "[" + strings.Join(out, ",") + "]"
		}
		prev := okxSeq
		if action == "snapshot" {
			prev = -1
		}
		okxSeq++
		return `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"` + action + `","data":[{"asks":` + side(asks[1]) + `,"bids":` + side(bids[0]) +
			`,"ts":"1700000000000","checksum":` + strconv.Itoa(int(s46ctOKXSum(all[0], all[1]))) +
			`,"prevSeqId":` + strconv.FormatInt(prev, 10) + `,"seqId":` + strconv.FormatInt(okxSeq, 10) + `}]}`
	}
	for _, emptyBids := range []bool{true, false} {
		for _, v := range s46ctVenues() {
			if v.name != "kraken" && v.name != "okx" {
				continue
			}
			t.Run(fmt.Sprintf("%s/emptyBids=%t", v.name, emptyBids), func(t *testing.T) {
				base, del, zero := two, [2]s46ctLevels{}, "0.00000000"
				msg := kraken
				if v.name == "okx" {
					base, zero, msg = okxTwo, "0", okx
				}
				k := 0 // the side emptied
				if !emptyBids {
					k = 1
				}
				oneSided, refilled := base, base
				oneSided[k] = nil
				refilled[k] = s46ctLevels{base[k][1]}
				for _, l := range base[k] {
					del[k] = append(del[k], [2]string{l[0], zero})
				}
				add := [2]s46ctLevels{}
				add[k] = s46ctLevels{base[k][1]}

				pools := schema.NewPools(nil)
				sink := &s46ctSink{events: pools.Events}
				x := s46ctNewPipe(t, v, sink, pools.Events)
				x.feed(msg("snapshot", base, base, base))
				require.True(t, x.b.Live())
				x.feed(msg("update", del, del, oneSided))
				q, live := x.b.BBO()
				require.True(t, live, "the checksum of a one-sided book failed")
				if emptyBids {
					require.True(t, q.BidQty.IsZero())
				} else {
					require.True(t, q.AskQty.IsZero())
				}
				x.feed(msg("update", add, add, refilled))
				require.True(t, x.b.Live())
				st := x.b.Stats()
				require.Equal(t, uint64(3), st.Checksums, "every checksum verified")
				require.Zero(t, st.ChecksumErrors)
				require.Empty(t, sink.gaps)
				x.books.Close()
				require.NoError(t, pools.Shutdown(context.Background()))
			})
		}
	}
}
