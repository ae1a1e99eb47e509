package book

// Faults that users of other trading libraries reported publicly against
// the venues' book streams, each replayed here through Meltica's real
// parser and book (frames in, book state and markers out) against the
// venue's documented rule. The thread each case comes from is named in its
// comment; a case that passed on the first run is a regression test.

import (
	"context"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// pipe is a venue parser feeding a Books router that holds one book, as a
// host wires them: frames in, the book and the events the host would see
// out.
type pipe struct {
	p      *normalize.Parser
	books  *Books
	b      *Book
	sink   *recSink
	events *pool.Pool[*schema.CanonicalEvent]
	resubs int
	ts     int64
}

func newPipe(t *testing.T, newParser func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser, rule Rule, symbol string, o *Options) *pipe {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	x := &pipe{events: events, sink: &recSink{events: events}}
	var opts Options
	if o != nil {
		opts = *o
	}
	opts.Sink, opts.Events = x.sink, events
	if rule.Resync == ResyncResubscribe && opts.Resubscribe == nil {
		opts.Resubscribe = func(context.Context, schema.Venue, string) error { x.resubs++; return nil }
	}
	b, err := NewBook(rule, symbol, &opts)
	require.NoError(t, err)
	x.b = b
	x.books = NewBooks(x.sink, events, nil)
	x.books.Add(b)
	x.p = newParser(events, x.books, nil)
	t.Cleanup(func() { require.Zero(t, events.Stats().InUse, "events not returned to the pool") })
	return x
}

// feed hands frames to the parser, each received 1 ms after the last.
func (x *pipe) feed(t *testing.T, frames ...string) {
	t.Helper()
	for _, f := range frames {
		x.ts += 1e6
		_ = x.p.HandleBytes(context.Background(), []byte(f), x.ts)
	}
}

func (x *pipe) markers() []*schema.CanonicalEvent {
	var out []*schema.CanonicalEvent
	for _, ev := range x.sink.ofType(schema.EventGap) {
		if ev.Symbol == x.b.Symbol() && ev.Control.Reason != "" && strings.HasPrefix(ev.Control.Reason, "book:") {
			out = append(out, ev)
		}
	}
	return out
}

// okxSum is the OKX books checksum computed here from the documented
// recipe, independently of checksum.go: the top 25 levels, bid then ask
// interleaved ("bid1price:bid1size:ask1price:ask1size:…", a side that
// runs out stops contributing), the strings as sent, CRC32 as a signed
// 32-bit integer.
func okxSum(bids, asks [][2]string) int32 {
	var parts []string
	for i := 0; i < 25; i++ {
		if i < len(bids) {
			parts = append(parts, bids[i][0], bids[i][1])
		}
		if i < len(asks) {
			parts = append(parts, asks[i][0], asks[i][1])
		}
	}
	return int32(crc32.ChecksumIEEE([]byte(strings.Join(parts, ":"))))
}

func okxLevels(ls [][2]string) string {
	var s []string
	for _, l := range ls {
		s = append(s, fmt.Sprintf(`["%s","%s","0","1"]`, l[0], l[1]))
	}
	return "[" + strings.Join(s, ",") + "]"
}

func okxBook(action, inst string, bids, asks [][2]string, checksum int32, prev, seq int64) string {
	return fmt.Sprintf(`{"arg":{"channel":"books","instId":"%s"},"action":"%s","data":[{"asks":%s,"bids":%s,"ts":"1700000000000","checksum":%d,"prevSeqId":%d,"seqId":%d}]}`,
		inst, action, okxLevels(asks), okxLevels(bids), checksum, prev, seq)
}

// OKX deprecated the books checksum and sends "checksum":0 on every
// message; a client that checks it anyway fails on the first update and,
// in ccxt below 4.5.55, ends the stream for good (xLydianSoftware/Qubx#387,
// "a book checksum ended the market data stream"). Meltica reads 0 as
// "not sent": the book goes live and stays live on its seqId chain.
func TestPublicFaultOKXChecksumZero(t *testing.T) {
	x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT-PERP", nil)
	bids, asks := [][2]string{{"100.0", "1"}, {"99.5", "2"}}, [][2]string{{"100.5", "3"}}
	x.feed(t,
		okxBook("snapshot", "BTC-USDT-SWAP", bids, asks, 0, -1, 10),
		okxBook("update", "BTC-USDT-SWAP", [][2]string{{"100.0", "4"}}, nil, 0, 10, 11),
		okxBook("update", "BTC-USDT-SWAP", nil, [][2]string{{"100.5", "0"}, {"101", "1"}}, 0, 11, 12),
	)
	require.True(t, x.b.Live())
	st := x.b.Stats()
	require.Zero(t, st.Checksums, "a checksum of 0 is not checked")
	require.Zero(t, st.ChecksumErrors)
	require.Equal(t, uint64(2), st.Applied)
	requireTop(t, x.b, [][2]string{{"100.0", "4"}, {"99.5", "2"}}, [][2]string{{"101", "1"}})
	require.Empty(t, x.markers())
}

// The OKX checksum interleaves bid and ask level by level and, where one
// side has fewer levels, goes on with the other alone; ccxt computed it
// wrongly for such books (ccxt/ccxt#15206, fixed by ccxt/ccxt#15213).
// It is also over the strings as sent: "100.10" is not "100.1"
// (okcoin-okex/open-api-v3-sdk#23, keyyuki: "combine 25 first ask entries
// and 25 first bid entries of current order-book", after applying the
// update). A real checksum over lopsided sides with trailing zeros must
// match, and a wrong one must invalidate the book and resubscribe.
func TestPublicFaultOKXChecksumUnevenSides(t *testing.T) {
	x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", nil)
	bids := [][2]string{{"100.10", "1.500"}, {"100.0", "2"}, {"99.90", "0.10"}, {"99.5", "7"}}
	asks := [][2]string{{"100.20", "0.30"}}
	x.feed(t, okxBook("snapshot", "BTC-USDT", bids, asks, okxSum(bids, asks), -1, 100))
	require.True(t, x.b.Live())

	// An update that empties the ask side entirely: the sum is then bids
	// only.
	bids2 := [][2]string{{"100.10", "1.500"}, {"100.0", "2"}, {"99.90", "0.10"}, {"99.5", "7"}}
	x.feed(t, okxBook("update", "BTC-USDT", nil, [][2]string{{"100.20", "0"}}, okxSum(bids2, nil), 100, 101))
	require.True(t, x.b.Live(), "a checksum over bids alone must match")

	// 30 asks arrive: only the top 25 count.
	var many [][2]string
	for i := range 30 {
		many = append(many, [2]string{fmt.Sprintf("%d.50", 101+i), "1.0"})
	}
	x.feed(t, okxBook("update", "BTC-USDT", nil, many, okxSum(bids2, many), 101, 102))
	require.True(t, x.b.Live(), "only the top 25 levels a side count")
	require.Equal(t, uint64(3), x.b.Stats().Checksums)
	require.Zero(t, x.b.Stats().ChecksumErrors)

	// A checksum that does not match: the book serves nothing and asks
	// for a new snapshot.
	x.feed(t, okxBook("update", "BTC-USDT", [][2]string{{"100.0", "3"}}, nil, 12345, 102, 103))
	require.False(t, x.b.Live())
	_, ok := x.b.BBO()
	require.False(t, ok)
	require.Equal(t, 1, x.resubs)
	m := x.markers()
	require.Len(t, m, 1)
	require.Equal(t, ReasonChecksum, m[0].Control.Reason)
}

// OKX resets seqId after maintenance: the next message has seqId smaller
// than prevSeqId, and is continuous; a message whose prevSeqId is not the
// last seqId is a gap, and the book must stop serving at once
// (thrasher-corp/gocryptotrader#2255: "a sequence failure leaves the depth
// marked valid"; "Missed reset: the isStale branch swallows the whole low
// chain"; the snapshot's prevSeqId is -1). Keep-alives (no levels,
// prevSeqId = seqId) are continuous and change nothing
// (thrasher-corp/gocryptotrader#2337).
func TestPublicFaultOKXSequenceResetAndGap(t *testing.T) {
	x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", nil)
	bids, asks := [][2]string{{"100", "1"}}, [][2]string{{"101", "1"}}
	x.feed(t,
		okxBook("snapshot", "BTC-USDT", bids, asks, 0, -1, 1000),
		okxBook("update", "BTC-USDT", nil, nil, 0, 1000, 1000),                    // keep-alive
		okxBook("update", "BTC-USDT", [][2]string{{"100", "2"}}, nil, 0, 1000, 3), // reset after maintenance
		okxBook("update", "BTC-USDT", [][2]string{{"99", "5"}}, nil, 0, 3, 4),     // chains from the new numbering
		okxBook("update", "BTC-USDT", nil, [][2]string{{"101", "2"}}, 0, 4, 5),
	)
	require.True(t, x.b.Live())
	require.Equal(t, uint64(5), x.b.LastSeq())
	requireTop(t, x.b, [][2]string{{"100", "2"}, {"99", "5"}}, [][2]string{{"101", "2"}})
	require.Empty(t, x.markers())

	// A lost message: prevSeqId 6 after seqId 5.
	x.feed(t, okxBook("update", "BTC-USDT", [][2]string{{"100", "9"}}, nil, 0, 6, 7))
	require.False(t, x.b.Live())
	_, ok := x.b.BBO()
	require.False(t, ok, "a book with a gap serves nothing")
	require.Equal(t, 1, x.resubs)
	require.NotEmpty(t, x.sink.ofType(schema.EventGap))

	// The resubscription's snapshot makes it live again.
	x.feed(t, okxBook("snapshot", "BTC-USDT", [][2]string{{"98", "1"}}, asks, 0, -1, 50))
	require.True(t, x.b.Live())
	requireTop(t, x.b, [][2]string{{"98", "1"}}, [][2]string{{"101", "1"}})
}

// binanceDiff is a depthUpdate; pu < 0 leaves it out (spot).
func binanceDiff(sym string, first, last, pu int64, bids, asks [][2]string) string {
	lv := func(ls [][2]string) string {
		var s []string
		for _, l := range ls {
			s = append(s, fmt.Sprintf(`["%s","%s"]`, l[0], l[1]))
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	p := ""
	if pu >= 0 {
		p = fmt.Sprintf(`,"pu":%d`, pu)
	}
	return fmt.Sprintf(`{"e":"depthUpdate","E":1700000000000,"T":1700000000000,"s":"%s","U":%d,"u":%d%s,"b":%s,"a":%s}`, sym, first, last, p, lv(bids), lv(asks))
}

// binanceSnapshots serves REST depth snapshots in turn through the
// venue's own decoder, counting the fetches.
type binanceSnapshots struct {
	bodies []string
	n      int
	depth  int // the most levels a side the snapshots hold (BinanceREST's Limit); 0: every side truncated
}

func (s *binanceSnapshots) SnapshotDepth() int { return s.depth }

func (s *binanceSnapshots) Fetch(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error {
	body := s.bodies[min(s.n, len(s.bodies)-1)]
	s.n++
	if err := normalize.ParseBinanceDepthSnapshot(ctx, nil, strings.ReplaceAll(symbol, "-", ""), []byte(body), dst); err != nil {
		return err
	}
	dst.Symbol = symbol
	return nil
}

// Binance spot: the snapshot is fetched after the stream opened, so the
// diffs buffered meanwhile straddle it. Drop those with u ≤ lastUpdateId,
// start with the one where U ≤ lastUpdateId+1 ≤ u, then U = previous u+1.
// Clients that skipped the buffer or the straddling diff kept stale levels
// for good and crossed (bitrich-info/xchange-stream#86,
// thrasher-corp/gocryptotrader#506 "bid prices greater than the lowest ask
// prices", decred/dcrdex#2908 "did not account for the first update
// straddling the last update ID of the snapshot"). A diff that removes a
// level the book does not have is normal (the same docs, rule 9).
func TestPublicFaultBinanceSpotSnapshotRace(t *testing.T) {
	snaps := &binanceSnapshots{bodies: []string{
		`{"lastUpdateId":105,"bids":[["100.00","1.0"],["99.00","2.0"]],"asks":[["101.00","1.0"],["102.00","3.0"]]}`,
	}}
	x := newPipe(t, normalize.NewBinance, Binance, "BTC-USDT", &Options{Fetcher: snaps})
	x.feed(t,
		binanceDiff("BTCUSDT", 100, 103, -1, [][2]string{{"100.00", "9.0"}}, nil),                          // older than the snapshot: dropped
		binanceDiff("BTCUSDT", 104, 107, -1, [][2]string{{"100.50", "1.5"}}, [][2]string{{"101.00", "0"}}), // straddles 106
		binanceDiff("BTCUSDT", 108, 109, -1, nil, [][2]string{{"150.00", "0"}}),                            // removes a level never seen
	)
	require.True(t, x.b.Live())
	require.Equal(t, uint64(109), x.b.LastSeq())
	requireTop(t, x.b, [][2]string{{"100.50", "1.5"}, {"100.00", "1.0"}}, [][2]string{{"102.00", "3.0"}})
	require.Empty(t, x.markers())

	// A lost diff (U 111 after u 109): invalid at once, then a new
	// snapshot is fetched and joined.
	snaps.bodies = append(snaps.bodies, `{"lastUpdateId":112,"bids":[["100.00","5.0"]],"asks":[["102.00","3.0"]]}`)
	x.feed(t, binanceDiff("BTCUSDT", 111, 113, -1, [][2]string{{"100.00", "4.0"}}, nil))
	require.True(t, x.b.Live(), "the refetched snapshot (112) joins the buffered diff 111–113")
	requireTop(t, x.b, [][2]string{{"100.00", "4.0"}}, [][2]string{{"102.00", "3.0"}})
	m := x.markers()
	require.Len(t, m, 1, "one marker per breakage")
	require.Contains(t, []string{ReasonGap, ReasonUpstream}, m[0].Control.Reason) // the parser's marker comes first
}

// Binance USDⓈ-M diffs carry pu, and their U is not previous u + 1:
// continuity is pu = previous u, and the first diff applied has
// U ≤ lastUpdateId ≤ u. Connectors that chained by U (or not at all)
// either resynced forever or silently lost updates
// (nkaz001/hftbacktest#300 "No Continuity Check: the pu validation is
// disabled"; ccxt/go-binance#489 "we should be using pu").
func TestPublicFaultBinanceFuturesPu(t *testing.T) {
	snaps := &binanceSnapshots{bodies: []string{
		`{"lastUpdateId":200,"E":1700000000000,"T":1700000000000,"bids":[["100.0","1"]],"asks":[["101.0","1"]]}`,
	}, depth: 1000}
	x := newPipe(t, normalize.NewBinance, Binance, "BTC-USDT", &Options{Fetcher: snaps})
	x.feed(t,
		binanceDiff("BTCUSDT", 150, 190, 149, [][2]string{{"100.0", "7"}}, nil), // covered by the snapshot
		binanceDiff("BTCUSDT", 195, 200, 190, [][2]string{{"99.0", "2"}}, nil),  // u = lastUpdateId: joins (derivatives)
		binanceDiff("BTCUSDT", 230, 240, 200, nil, [][2]string{{"101.5", "4"}}), // U skips: pu chains
		binanceDiff("BTCUSDT", 260, 270, 240, [][2]string{{"100.0", "3"}}, nil),
	)
	require.True(t, x.b.Live())
	require.Equal(t, uint64(270), x.b.LastSeq())
	requireTop(t, x.b, [][2]string{{"100.0", "3"}, {"99.0", "2"}}, [][2]string{{"101.0", "1"}, {"101.5", "4"}})
	require.Zero(t, x.b.Stats().Gaps)

	// pu that is not the last u: a gap, however close U is.
	x.feed(t, binanceDiff("BTCUSDT", 271, 280, 275, [][2]string{{"100.0", "1"}}, nil))
	require.Equal(t, uint64(1), x.b.Stats().Invalidations)
	require.Len(t, x.markers(), 1)
}

func bybitBook(typ, sym string, depth int, u, seq int64, bids, asks [][2]string) string {
	lv := func(ls [][2]string) string {
		var s []string
		for _, l := range ls {
			s = append(s, fmt.Sprintf(`["%s","%s"]`, l[0], l[1]))
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	return fmt.Sprintf(`{"topic":"orderbook.%d.%s","type":"%s","ts":1700000000000,"data":{"s":"%s","b":%s,"a":%s,"u":%d,"seq":%d},"cts":1700000000000}`,
		depth, sym, typ, sym, lv(bids), lv(asks), u, seq)
}

// Bybit: "If you receive a new snapshot message, you will have to reset
// your local orderbook" — a snapshot can come at any time, and u = 1 is
// the service restarting; clients that merged the new snapshot into the
// old book kept levels that no longer exist (DigitalRuby/ExchangeSharp#844,
// "Reset cached orderbook when new orderbook is a snapshot").
func TestPublicFaultBybitSnapshotResets(t *testing.T) {
	x := newPipe(t, normalize.NewBybit, Bybit, "BTC-USDT", nil) // linear BTCUSDT without a loaded registry reads as BTC-USDT
	x.feed(t,
		bybitBook("snapshot", "BTCUSDT", 50, 500, 9000, [][2]string{{"100.0", "1"}, {"99.0", "1"}}, [][2]string{{"101.0", "1"}, {"102.0", "1"}}),
		bybitBook("delta", "BTCUSDT", 50, 501, 9001, [][2]string{{"98.0", "5"}}, nil),
		// The venue re-sends a snapshot (no u = 1): it replaces the book.
		bybitBook("snapshot", "BTCUSDT", 50, 600, 9100, [][2]string{{"97.0", "2"}}, [][2]string{{"103.0", "2"}}),
	)
	require.True(t, x.b.Live())
	var ev schema.CanonicalEvent
	x.b.Top(0, &ev)
	require.Len(t, ev.Book.Bids, 1, "levels of the old book survived a new snapshot")
	require.Len(t, ev.Book.Asks, 1)
	requireTop(t, x.b, [][2]string{{"97.0", "2"}}, [][2]string{{"103.0", "2"}})

	// u = 1 on a delta: the service restarted; its data is a snapshot.
	x.feed(t,
		bybitBook("delta", "BTCUSDT", 50, 1, 9200, [][2]string{{"96.0", "1"}}, [][2]string{{"104.0", "1"}}),
		bybitBook("delta", "BTCUSDT", 50, 2, 9201, [][2]string{{"96.5", "1"}}, nil),
	)
	require.True(t, x.b.Live())
	x.b.Top(0, &ev)
	require.Len(t, ev.Book.Bids, 2)
	require.Len(t, ev.Book.Asks, 1)
	requireTop(t, x.b, [][2]string{{"96.5", "1"}, {"96.0", "1"}}, [][2]string{{"104.0", "1"}})
	require.Equal(t, uint64(1), x.b.Stats().Restarts)
	require.Empty(t, x.markers())
}

// krakenSum is Kraken's book checksum computed here from the documented
// recipe (Kraken "Spot WebSocket book checksum"), independently of
// checksum.go: the top 10 asks then the top 10 bids, each price and
// quantity with the '.' removed and the leading zeros stripped,
// concatenated, CRC32.
func krakenSum(asks, bids [][2]string) uint32 {
	var sb strings.Builder
	f := func(s string) {
		s = strings.TrimLeft(strings.ReplaceAll(s, ".", ""), "0")
		sb.WriteString(s)
	}
	for i := 0; i < 10 && i < len(asks); i++ {
		f(asks[i][0])
		f(asks[i][1])
	}
	for i := 0; i < 10 && i < len(bids); i++ {
		f(bids[i][0])
		f(bids[i][1])
	}
	return crc32.ChecksumIEEE([]byte(sb.String()))
}

func krV1Levels(ls [][2]string) string {
	var s []string
	for _, l := range ls {
		s = append(s, fmt.Sprintf(`["%s","%s","1700000000.123456"]`, l[0], l[1]))
	}
	return "[" + strings.Join(s, ",") + "]"
}

// Kraken keeps a subscriber to the top N levels and sends no delete for a
// level pushed out of the view; a client that keeps it finds it "back"
// after the level that pushed it out goes, and its checksum fails
// (knowm/XChange#4571 "as soon as it goes out of the top 10 quotes we need
// to remove it"; namjug-kim/reactive-crypto#232 "Remove out of scope
// orders"). The checksum must also be over the digits as sent, trailing
// zeros included (JKorf/Kraken.Net#20, knowm/XChange#4063: a decimal
// type drops them). An update may carry asks and bids as two objects, the
// checksum in the second (DigitalRuby/ExchangeSharp#626).
func TestPublicFaultKrakenViewTruncation(t *testing.T) {
	x := newPipe(t, normalize.NewKraken, KrakenV1, "BTC-USD", nil)
	var asks, bids [][2]string
	for i := range 10 {
		asks = append(asks, [2]string{fmt.Sprintf("%d.10000", 50001+i), "0.50000000"})
		bids = append(bids, [2]string{fmt.Sprintf("%d.00000", 50000-i), "1.00000000"})
	}
	x.feed(t, fmt.Sprintf(`[1,{"as":%s,"bs":%s},"book-10","XBT/USD"]`, krV1Levels(asks), krV1Levels(bids)))
	require.True(t, x.b.Live())

	// A new best ask pushes the 10th out of view; the venue's checksum is
	// over the view.
	asks2 := append([][2]string{{"50000.50000", "0.25000000"}}, asks[:9]...)
	x.feed(t, fmt.Sprintf(`[1,{"a":%s,"c":"%d"},"book-10","XBT/USD"]`, krV1Levels(asks2[:1]), krakenSum(asks2, bids)))
	require.True(t, x.b.Live(), "the checksum is over the top 10")
	// It goes again, and a new level comes at the back of the view: the
	// level pushed out must not come back. Asks and bids in two objects.
	asks3 := append(append([][2]string{}, asks[:9]...), [2]string{"50020.10000", "3.00000000"})
	bids3 := append([][2]string{{"50000.20000", "0.10000000"}}, bids[:9]...)
	x.feed(t, fmt.Sprintf(`[1,{"a":[["50000.50000","0.00000000","1700000000.2"],["50020.10000","3.00000000","1700000000.2","r"]]},{"b":%s,"c":"%d"},"book-10","XBT/USD"]`,
		krV1Levels(bids3[:1]), krakenSum(asks3, bids3)))
	require.True(t, x.b.Live(), "a level that left the view came back")
	require.Equal(t, uint64(2), x.b.Stats().Checksums)
	require.Zero(t, x.b.Stats().ChecksumErrors)
	requireTop(t, x.b, [][2]string{{"50000.20000", "0.10000000"}}, [][2]string{{"50001.10000", "0.50000000"}})
}

// Crossed books that pass the checksum (knowm/XChange#4239: "Getting
// crossed books even after the checksum validation is passed"; also
// coinbase/coinbase-pro-node#372, preichenberger/go-coinbasepro#65). A
// book whose best bid reaches its best ask is wrong whatever the checksum
// says: it must stop serving and resubscribe.
func TestPublicFaultCrossedBookPassingChecksum(t *testing.T) {
	x := newPipe(t, normalize.NewKraken, KrakenV1, "ETH-USD", nil)
	asks := [][2]string{{"2000.10", "1.000"}, {"2000.20", "1.000"}}
	bids := [][2]string{{"2000.00", "1.000"}}
	x.feed(t, fmt.Sprintf(`[7,{"as":%s,"bs":%s},"book-10","ETH/USD"]`, krV1Levels(asks), krV1Levels(bids)))
	require.True(t, x.b.Live())
	bids2 := [][2]string{{"2000.15", "0.500"}, {"2000.00", "1.000"}}
	x.feed(t, fmt.Sprintf(`[7,{"b":%s,"c":"%d"},"book-10","ETH/USD"]`, krV1Levels(bids2[:1]), krakenSum(asks, bids2)))
	require.False(t, x.b.Live(), "a crossed book stayed live")
	_, ok := x.b.BBO()
	require.False(t, ok)
	m := x.markers()
	require.Len(t, m, 1)
	require.Equal(t, ReasonCrossed, m[0].Control.Reason)
	require.Equal(t, 1, x.resubs)
}

// "some order book updates from kraken where there is no checksum given"
// (knowm/XChange#4319): an update without "c" is applied and not checked;
// it must neither invalidate the book nor count as a check.
func TestPublicFaultKrakenUpdateWithoutChecksum(t *testing.T) {
	x := newPipe(t, normalize.NewKraken, KrakenV1, "ETH-USD", nil)
	x.feed(t,
		fmt.Sprintf(`[7,{"as":%s,"bs":%s},"book-10","ETH/USD"]`, krV1Levels([][2]string{{"2000.10", "1.000"}}), krV1Levels([][2]string{{"2000.00", "1.000"}})),
		`[7,{"b":[["1999.00","2.000","1700000000.1"]]},"book-10","ETH/USD"]`,
	)
	require.True(t, x.b.Live())
	require.Zero(t, x.b.Stats().Checksums)
	requireTop(t, x.b, [][2]string{{"2000.00", "1.000"}, {"1999.00", "2.000"}}, nil)
}

// Kraken v2 sends prices and quantities as JSON numbers, whose text drops
// trailing zeros and which a JSON writer may put in exponent form
// ("1e-05"); its checksum is over each value formatted to the pair's
// precision (Kraken "WebSocket v2 book checksum"). Clients that
// checksummed the float text failed on exactly such values
// (bitfinexcom/bitfinex-api-node#328 "Order book checksum fails from non
// standard number formatting", 1.7e-7 beside 0.0000082; ccxt/ccxt#24461
// "precision edge cases").
func TestPublicFaultKrakenV2NumberFormatting(t *testing.T) {
	rule := KrakenV2
	rule.PriceScale, rule.QtyScale = 5, 8
	x := newPipe(t, normalize.NewKraken, rule, "DOGE-USD", nil)
	asks := [][2]string{{"0.12350", "1500.00000000"}, {"0.12360", "0.00001000"}}
	bids := [][2]string{{"0.12340", "0.50000000"}, {"0.12300", "20.00000000"}}
	snap := fmt.Sprintf(`{"channel":"book","type":"snapshot","data":[{"symbol":"DOGE/USD","bids":[{"price":0.1234,"qty":0.5},{"price":0.123,"qty":20}],"asks":[{"price":0.1235,"qty":1500},{"price":0.1236,"qty":1e-05}],"checksum":%d}]}`, krakenSum(asks, bids))
	x.feed(t, snap)
	require.True(t, x.b.Live(), "the v2 checksum is over the values at the pair's precision")
	bids2 := [][2]string{{"0.12340", "0.00000170"}, {"0.12300", "20.00000000"}}
	x.feed(t, fmt.Sprintf(`{"channel":"book","type":"update","data":[{"symbol":"DOGE/USD","bids":[{"price":1.234E-1,"qty":1.7e-6}],"asks":[],"checksum":%d,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`, krakenSum(asks, bids2)))
	require.True(t, x.b.Live(), "exponent notation")
	require.Equal(t, uint64(2), x.b.Stats().Checksums)
	requireTop(t, x.b, [][2]string{{"0.1234", "0.0000017"}}, nil)
}

// A venue whose checksum keeps failing — Kraken's own feed "unreliable on
// precision edge cases" (ccxt/ccxt#24461, where the resubscription cascade
// "killed the healthy subscriptions" too), or a book that flaps
// (JKorf/Kraken.Net#29 "Checksum causes often reconnects";
// knowm/XChange#4319 "Resubscribing ETH/USD channel after adapter error")
// — must not make the book resubscribe at the rate snapshots come back:
// OKX closes a connection past 480 subscribe requests an hour (OKX v5
// "WebSocket: connection limits"), taking every other subscription of
// the connection with it. After a few immediate tries the book waits
// longer and longer between resubscriptions, up to 64 × RetryInterval.
func TestPublicFaultResubscribeStorm(t *testing.T) {
	x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", &Options{RetryInterval: time.Hour})
	bids, asks := [][2]string{{"100", "1"}}, [][2]string{{"101", "1"}}
	for i := range 200 {
		// The venue answers every resubscription with a snapshot whose
		// checksum does not match the levels it carries.
		x.feed(t, okxBook("snapshot", "BTC-USDT", bids, asks, okxSum(bids, asks)+1, -1, int64(1000+i)))
		x.feed(t, okxBook("update", "BTC-USDT", [][2]string{{"100", "2"}}, nil, 0, int64(1000+i), int64(1001+i)))
	}
	require.False(t, x.b.Live())
	require.Equal(t, resyncBurst, x.resubs, "resubscriptions must back off when every resync fails")
	require.Equal(t, uint64(200), x.b.Stats().ChecksumErrors)

	// With a short interval the book keeps trying, ever less often.
	y := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", &Options{RetryInterval: time.Nanosecond})
	i := 0
	require.Eventually(t, func() bool {
		i++
		y.feed(t, okxBook("snapshot", "BTC-USDT", bids, asks, okxSum(bids, asks)+1, -1, int64(1000+i)))
		return y.resubs > resyncBurst+2
	}, 10*time.Second, time.Millisecond)
}

// Binance: a stream that breaks on every diff (a lost connection's
// replay, a venue fault) made clients fetch a REST snapshot per diff
// (lfern/ccxt#15 "Binance spammed with REST orderbook snapshot";
// bitrich-info/xchange-stream#328 "Fetching initial orderbook snapshot …
// each four seconds"): /api/v3/depth at limit 1000 weighs 50 of the
// 6,000 a minute an IP may use, and repeated 429s end in a 418 ban that
// stops every book. After a few immediate resyncs the book waits longer
// and longer before fetching again.
func TestPublicFaultBinanceFetchStorm(t *testing.T) {
	var fetches int
	next := int64(0)
	fetcher := FetcherFunc(func(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error {
		fetches++
		body := fmt.Sprintf(`{"lastUpdateId":%d,"bids":[["100.00","1.0"]],"asks":[["101.00","1.0"]]}`, next-1)
		return normalize.ParseBinanceDepthSnapshot(ctx, nil, "BTCUSDT", []byte(body), dst)
	})
	x := newPipe(t, normalize.NewBinance, Binance, "BTC-USDT", &Options{Fetcher: fetcher, RetryInterval: time.Hour})
	for i := range 200 {
		first := int64(1000 + 10*i) // each diff skips ids: a gap every time
		next = first
		x.feed(t, binanceDiff("BTCUSDT", first, first+1, -1, [][2]string{{"100.00", "2.0"}}, nil))
	}
	require.Equal(t, resyncBurst, fetches, "snapshot fetches must back off when every resync breaks at once")
}

// The backoff on the book's clock: three resyncs at once, then waits of
// RetryInterval, 2×, 4× … 64× after the previous one; a book that stays
// live 10 × RetryInterval starts a new run with its three immediate ones.
func TestResyncBackoffSchedule(t *testing.T) {
	x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", &Options{RetryInterval: time.Second})
	clock := time.Unix(1_700_000_000, 0)
	x.b.now = func() time.Time { return clock }
	bids, asks := [][2]string{{"100", "1"}}, [][2]string{{"101", "1"}}
	seq := int64(1000)
	bad := func() {
		seq++
		x.feed(t, okxBook("snapshot", "BTC-USDT", bids, asks, okxSum(bids, asks)+1, -1, seq))
	}
	for range 5 {
		bad()
	}
	require.Equal(t, 3, x.resubs)
	for _, step := range []struct {
		advance time.Duration
		resubs  int
	}{
		{999 * time.Millisecond, 3}, {time.Millisecond, 4}, // 1 s after the 3rd
		{1999 * time.Millisecond, 4}, {time.Millisecond, 5}, // 2 s after the 4th
		{4 * time.Second, 6}, {8 * time.Second, 7}, {16 * time.Second, 8}, {32 * time.Second, 9},
		{63 * time.Second, 9}, {time.Second, 10}, // capped at 64 s
		{64 * time.Second, 11},
	} {
		clock = clock.Add(step.advance)
		bad()
		require.Equal(t, step.resubs, x.resubs, "after %v", step.advance)
	}
	require.Positive(t, x.b.Stats().Deferred)

	// A good snapshot; the book stays live 10 s; the next break starts a
	// new run.
	x.feed(t, okxBook("snapshot", "BTC-USDT", bids, asks, okxSum(bids, asks), -1, seq+1))
	require.True(t, x.b.Live())
	clock = clock.Add(10 * time.Second)
	seq += 10
	for range 5 {
		bad()
	}
	require.Equal(t, 11+3, x.resubs)

	// A book that breaks sooner than that stays in its run.
	clock = clock.Add(10 * time.Minute) // past every wait
	x.feed(t, okxBook("snapshot", "BTC-USDT", bids, asks, okxSum(bids, asks), -1, seq+1))
	require.True(t, x.b.Live())
	clock = clock.Add(time.Second)
	bad()
	require.Equal(t, 15, x.resubs, "the wait since the last resync has passed")
	bad()
	require.Equal(t, 15, x.resubs, "and the next waits again")

	// A put-off resubscription happens on the first diff after its wait.
	clock = clock.Add(10 * time.Minute)
	seq++
	x.feed(t, okxBook("update", "BTC-USDT", [][2]string{{"100", "2"}}, nil, 0, seq-1, seq))
	require.Equal(t, 16, x.resubs)
}

// A book that silently stops receiving data while its connection lives
// keeps serving its last state as if current (nautechsystems/
// nautilus_trader#4298 "order book delta stream silently becomes stale
// while the data client remains connected"; ccxt/ccxt#23214
// "watchOrderBook … stop returning up to date data"; coinbase/
// coinbase-pro-node#80 "OrderbookSync returns stale data"). The host can
// only catch it if the book says how old it is: Updated gives the venue
// and receive times of the latest message applied (an OKX keep-alive
// included), Top's and PublishTop's snapshots carry them — not the time
// of the call, which would make a stale book look fresh.
func TestPublicFaultStaleBookHasItsAge(t *testing.T) {
	x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", nil)
	bids, asks := [][2]string{{"100", "1"}}, [][2]string{{"101", "1"}}
	ex, in := x.b.Updated()
	require.Zero(t, ex)
	require.Zero(t, in)
	x.feed(t, okxBook("snapshot", "BTC-USDT", bids, asks, 0, -1, 10))
	ex, in = x.b.Updated()
	require.Equal(t, int64(1700000000000)*1e6, ex)
	require.Equal(t, x.ts, in)
	x.feed(t, strings.Replace(okxBook("update", "BTC-USDT", nil, nil, 0, 10, 10), "1700000000000", "1700000005000", 1)) // a keep-alive
	ex, in = x.b.Updated()
	require.Equal(t, int64(1700000005000)*1e6, ex)
	require.Equal(t, x.ts, in, "a keep-alive shows the stream is alive")
	diff := strings.Replace(okxBook("update", "BTC-USDT", [][2]string{{"100", "2"}}, nil, 0, 10, 11), "1700000000000", "1700000006000", 1)
	x.feed(t, diff)
	last := x.ts
	x.feed(t, diff) // a repeat: proves nothing new
	ex, in = x.b.Updated()
	require.Equal(t, last, in)
	require.Equal(t, int64(1700000006000)*1e6, ex)

	var top schema.CanonicalEvent
	require.True(t, x.b.Top(5, &top))
	require.Equal(t, int64(1700000006000)*1e6, top.ExchangeTS)
	require.Equal(t, last, top.IngestTS)
	require.NoError(t, x.b.PublishTop(context.Background(), 5))
	snaps := x.sink.ofType(schema.EventBookSnapshot)
	pub := snaps[len(snaps)-1]
	require.Equal(t, last, pub.IngestTS, "PublishTop stamped the book with the time of the call")
	require.Equal(t, int64(1700000006000)*1e6, pub.ExchangeTS)

	// An invalid book has no age: it serves nothing.
	x.feed(t, okxBook("update", "BTC-USDT", bids, nil, 0, 50, 51))
	require.False(t, x.b.Live())
	_, in = x.b.Updated()
	require.Zero(t, in)
}

// Bybit deltas insert levels anywhere in the range and delete levels the
// book may not hold; a book kept as an appended list stopped having its
// best level first, and a delete of an absent level crashed the handler
// and dropped the message (bybit-exchange/pybit#372 "Keep V5 orderbook
// sorted and fix crash on delta delete of absent level";
// bybit-exchange/api-connectors#23 "delta data contains wrong data to
// delete (not in snapshot)").
func TestPublicFaultBybitInsertAnywhereDeleteAbsent(t *testing.T) {
	x := newPipe(t, normalize.NewBybit, Bybit, "BTC-USDT", nil)
	x.feed(t,
		bybitBook("snapshot", "BTCUSDT", 50, 10, 1, [][2]string{{"100.0", "1"}, {"98.0", "1"}}, [][2]string{{"101.0", "1"}, {"103.0", "1"}}),
		bybitBook("delta", "BTCUSDT", 50, 11, 2, [][2]string{{"99.0", "2"}, {"100.5", "3"}, {"97.0", "0"}}, [][2]string{{"102.0", "2"}, {"100.8", "4"}, {"150.0", "0"}}),
	)
	require.True(t, x.b.Live())
	requireTop(t, x.b, [][2]string{{"100.5", "3"}, {"100.0", "1"}, {"99.0", "2"}, {"98.0", "1"}}, [][2]string{{"100.8", "4"}, {"101.0", "1"}, {"102.0", "2"}, {"103.0", "1"}})
	q, ok := x.b.BBO()
	require.True(t, ok)
	requireDigits := func(want string, d schema.Decimal) { require.Equal(t, want, d.String()) }
	requireDigits("100.5", q.BidPrice)
	requireDigits("100.8", q.AskPrice)
	require.Empty(t, x.markers())
}

// Coinbase Advanced Trade answers each (re)subscription to level2 with a
// whole-book snapshot on the same connection; merged into the old book it
// leaves levels that are gone, and the book crosses (coinbase/
// coinbase-pro-node#372 "Orderbook sync has invalid state with crossed
// orders"; preichenberger/go-coinbasepro#65). The new snapshot replaces
// the book; an update that crosses it invalidates it.
func TestPublicFaultCoinbaseSnapshotReplacesAndCrossInvalidates(t *testing.T) {
	x := newPipe(t, normalize.NewCoinbase, Coinbase, "BTC-USD", nil)
	l2 := func(seq int, typ string, ups ...[3]string) string {
		var u []string
		for _, l := range ups {
			u = append(u, fmt.Sprintf(`{"side":"%s","event_time":"2023-02-09T20:32:50.714964Z","price_level":"%s","new_quantity":"%s"}`, l[0], l[1], l[2]))
		}
		return fmt.Sprintf(`{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":%d,"events":[{"type":"%s","product_id":"BTC-USD","updates":[%s]}]}`, seq, typ, strings.Join(u, ","))
	}
	x.feed(t,
		l2(0, "snapshot", [3]string{"bid", "100.00", "1"}, [3]string{"bid", "99.00", "1"}, [3]string{"offer", "101.00", "1"}),
		l2(1, "update", [3]string{"bid", "99.50", "2"}),
		// Resubscribed: a new snapshot without 99.00 and 99.50.
		l2(2, "snapshot", [3]string{"bid", "100.10", "1"}, [3]string{"offer", "100.90", "1"}),
	)
	require.True(t, x.b.Live())
	var ev schema.CanonicalEvent
	x.b.Top(0, &ev)
	require.Len(t, ev.Book.Bids, 1, "levels of the old book survived the new snapshot")
	require.Len(t, ev.Book.Asks, 1)

	x.feed(t, l2(3, "update", [3]string{"bid", "100.95", "1"}))
	require.False(t, x.b.Live(), "a crossed book stayed live")
	m := x.markers()
	require.Len(t, m, 1)
	require.Equal(t, ReasonCrossed, m[0].Control.Reason)
}

// Kraken v2 book messages do not name their depth (v1's channel name
// "book-25" does); only the subscription's ack says it
// ("result":{"channel":"book","depth":25}). A book kept at another depth
// than the one subscribed fails Kraken's checksum whenever a level comes
// into its view from beyond it — Kraken sends no insert for a level it
// already sent — and resubscribes over and over (knowm/XChange#4571
// "default order book size is 10 (not 25) … Otherwise, checksum
// calculation fails too often"). The parser reads the depth from the ack
// and names it on the symbol's book messages, so a book of another depth
// ignores them and says so (as for v1), and a book of that depth — or of
// depth 0 — follows them.
func TestPublicFaultKrakenV2DepthFromAck(t *testing.T) {
	lv := func(ls [][2]string) string {
		var s []string
		for _, l := range ls {
			s = append(s, fmt.Sprintf(`{"price":%s,"qty":%s}`, l[0], l[1]))
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	var asks, bids [][2]string
	for i := range 25 {
		asks = append(asks, [2]string{fmt.Sprintf("%d.5", 50001+i), "1.25"})
		bids = append(bids, [2]string{fmt.Sprintf("%d.5", 50000-i), "2.5"})
	}
	pad := func(ls [][2]string) [][2]string { // the pair's precision: price 1, qty 8
		var out [][2]string
		for _, l := range ls {
			q := l[1] + strings.Repeat("0", 8-len(l[1][strings.Index(l[1], ".")+1:]))
			out = append(out, [2]string{l[0], q})
		}
		return out
	}
	ack := `{"method":"subscribe","req_id":11,"result":{"channel":"book","depth":25,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2024-05-19T16:27:13.694962Z","time_out":"2024-05-19T16:27:13.695006Z"}`
	snap := fmt.Sprintf(`{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":%s,"asks":%s,"checksum":%d,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`,
		lv(bids), lv(asks), krakenSum(pad(asks), pad(bids)))
	// The best ask goes: the 11th comes into the top 10, sent long ago.
	upd := fmt.Sprintf(`{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[{"price":50001.5,"qty":0}],"checksum":%d,"timestamp":"2024-05-19T16:45:25.204654Z"}]}`,
		krakenSum(pad(asks[1:]), pad(bids)))

	rule := KrakenV2
	rule.PriceScale, rule.QtyScale = 1, 8
	x := newPipe(t, normalize.NewKraken, rule, "BTC-USD", nil) // depth 10: not the one subscribed
	x.feed(t, ack, snap, upd)
	require.Zero(t, x.b.Stats().ChecksumErrors, "a book of another depth took the stream and failed its checksum")
	require.Zero(t, x.resubs)
	require.Positive(t, x.b.Stats().OtherViews)

	for _, r := range []Rule{must(rule.WithDepth(25)), func() Rule { r := rule; r.Depth = 0; return r }()} {
		y := newPipe(t, normalize.NewKraken, r, "BTC-USD", nil)
		y.feed(t, ack, snap, upd)
		require.True(t, y.b.Live(), "depth %d", r.Depth)
		require.Equal(t, uint64(2), y.b.Stats().Checksums)
		require.Zero(t, y.b.Stats().ChecksumErrors)
		requireTop(t, y.b, nil, [][2]string{{"50002.5", "1.25"}})
	}
}

func must(r Rule, err error) Rule {
	if err != nil {
		panic(err)
	}
	return r
}

// A lost connection ends a run of the resync backoff: the stream starts
// again on the new connection, whose snapshot or fetch must not wait for
// the earlier failures.
func TestResyncBackoffEndsOnLostConnection(t *testing.T) {
	x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", &Options{RetryInterval: time.Hour})
	bids, asks := [][2]string{{"100", "1"}}, [][2]string{{"101", "1"}}
	for i := range 10 {
		x.feed(t, okxBook("snapshot", "BTC-USDT", bids, asks, okxSum(bids, asks)+1, -1, int64(100+i)))
	}
	require.Equal(t, resyncBurst, x.resubs)
	x.ts += 1e6
	require.NoError(t, x.books.Publish(context.Background(), publishPooled(t, x.events, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Type, ev.IngestTS = schema.VenueOKX, schema.EventConnState, x.ts
		ev.Control = &schema.Control{Kind: schema.ControlConnState, State: schema.ConnReconnecting}
	})))
	// The new connection's stream breaks again at once: resynced at once.
	x.feed(t, okxBook("snapshot", "BTC-USDT", bids, asks, okxSum(bids, asks)+1, -1, 500))
	require.Equal(t, resyncBurst+1, x.resubs)
}

// A Binance REST snapshot holds the best Limit levels a side (1000 by
// default); the diff stream only sends levels that change. Beyond the
// snapshot's worst levels the book has only the levels that changed since:
// a level that did not change is missing, and when the top moves out of
// the snapshot's range the book's best bid or ask is wrong while it looks
// complete (bmoscon/cryptofeed#604 "incorrect OrderBook for binance": own
// resting orders "not found in the internal book … because Binance don't
// provide the full L2 book snaps"). The book must not serve a top beyond
// its snapshot's range: it resyncs with a new snapshot.
func TestPublicFaultBinanceTopBeyondSnapshotRange(t *testing.T) {
	// The venue's book: bids 100, 99, 98; asks 101, 102, 103. Snapshots
	// hold two levels a side.
	snaps := &binanceSnapshots{bodies: []string{
		`{"lastUpdateId":10,"bids":[["100","1"],["99","1"]],"asks":[["101","1"],["102","1"]]}`,
		`{"lastUpdateId":12,"bids":[["98","1"],["97","4"]],"asks":[["101","1"],["102","1"]]}`,
	}}
	x := newPipe(t, normalize.NewBinance, Binance, "BTC-USDT", &Options{Fetcher: snaps})
	x.feed(t, binanceDiff("BTCUSDT", 11, 11, -1, [][2]string{{"97", "4"}}, nil)) // a level beyond the snapshot's range
	require.True(t, x.b.Live())
	require.Equal(t, 1, snaps.n)
	// The bids at 100 and 99 are taken: the best bid is 98, which the
	// book never saw (it did not change).
	x.feed(t, binanceDiff("BTCUSDT", 12, 12, -1, [][2]string{{"100", "0"}, {"99", "0"}}, nil))
	if q, live := x.b.BBO(); live {
		require.Equal(t, "98", q.BidPrice.String(), "a best bid from beyond the snapshot's range was served")
	}
	require.False(t, x.b.Live(), "a top beyond the snapshot's range was served")
	m := x.markers()
	require.Len(t, m, 1)
	require.Equal(t, ReasonRange, m[0].Control.Reason)
	// The next diff resyncs: a new snapshot, whose range holds the top.
	x.feed(t, binanceDiff("BTCUSDT", 13, 13, -1, nil, [][2]string{{"102", "2"}}))
	require.Equal(t, 2, snaps.n, "the book did not resync when its top left the snapshot's range")
	require.True(t, x.b.Live())
	requireTop(t, x.b, [][2]string{{"98", "1"}, {"97", "4"}}, [][2]string{{"101", "1"}, {"102", "2"}})

	// BinanceREST says how many levels a side its snapshots hold: a side
	// with fewer is the whole side, and its range is not watched.
	require.Equal(t, 1000, (&BinanceREST{}).SnapshotDepth())
	require.Equal(t, 5000, (&BinanceREST{Limit: 5000}).SnapshotDepth())
}
