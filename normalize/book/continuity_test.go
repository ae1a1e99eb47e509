package book

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

func lvl(p, q string) schema.Level {
	return schema.Level{Price: schema.MustParseDecimal(p), Qty: schema.MustParseDecimal(q)}
}

// bookEv builds a book event of venue for BTC-USDT.
func bookEv(venue schema.Venue, typ schema.EventType, first, last, prev uint64, bids, asks []schema.Level) *schema.CanonicalEvent {
	return &schema.CanonicalEvent{Venue: venue, Symbol: "BTC-USDT", Type: typ,
		Book: schema.Book{FirstSeq: first, LastSeq: last, PrevSeq: prev, Bids: bids, Asks: asks}}
}

// depthServer serves a Binance depth snapshot on path and counts the
// requests.
type depthServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	paths []string
}

func newDepthServer(t *testing.T, path, body string) *depthServer {
	t.Helper()
	s := &depthServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.Path+"?"+r.URL.RawQuery)
		s.mu.Unlock()
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		_, _ = fmt.Fprint(w, body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *depthServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

// futuresDiff is a USDⓈ-M depthUpdate as the venue sends it.
func futuresDiff(first, last, prev uint64, bidPrice, bidQty string) []byte {
	return fmt.Appendf(nil, `{"e":"depthUpdate","E":1700000000000,"T":1700000000000,"s":"BTCUSDT","U":%d,"u":%d,"pu":%d,"b":[["%s","%s"]],"a":[]}`, first, last, prev, bidPrice, bidQty)
}

// The case, through the real parser, Books and the REST fetcher
// against the futures endpoint: snapshot lastUpdateId 1000, then diffs
// U=995 u=1003 pu=990, U=1009 u=1014 pu=1003, U=1016 u=1020 pu=1014. All
// three are applied, the book is live at 1020, one snapshot was fetched,
// from /fapi/v1/depth.
func TestBinanceFuturesPuChain(t *testing.T) {
	srv := newDepthServer(t, BinanceUSDMDepth, `{"lastUpdateId":1000,"E":1700000000000,"T":1700000000000,"bids":[["100.0","1"],["99.0","2"]],"asks":[["101.0","3"]]}`)
	rest := &BinanceREST{BaseURL: srv.srv.URL, Path: BinanceUSDMDepth}
	bk, sink, events := newRecBook(t, Binance, "BTC-USDT", &Options{Fetcher: rest})
	books := NewBooks(nil, events, nil)
	books.Add(bk)
	p := normalize.NewBinance(events, books, nil)
	ctx := context.Background()
	for _, d := range [][]byte{
		futuresDiff(995, 1003, 990, "100.0", "5"),
		futuresDiff(1009, 1014, 1003, "98.0", "7"),
		futuresDiff(1016, 1020, 1014, "99.0", "0"),
	} {
		require.NoError(t, p.HandleBytes(ctx, d, 1))
	}
	require.True(t, bk.Live())
	require.Equal(t, uint64(1020), bk.LastSeq())
	st := bk.Stats()
	require.Equal(t, uint64(3), st.Applied)
	require.Equal(t, uint64(1), st.Fetches)
	require.Zero(t, st.Gaps)
	require.Zero(t, st.Markers)
	require.Empty(t, sink.ofType(schema.EventGap))
	require.Equal(t, []string{"/fapi/v1/depth?symbol=BTCUSDT&limit=1000"}, srv.requests())
	requireTop(t, bk, [][2]string{{"100.0", "5"}, {"98.0", "7"}}, [][2]string{{"101.0", "3"}})
}

// Joining on a diff whose u is exactly lastUpdateId, on both chainings:
// derivatives apply it (U ≤ L ≤ u) and chain the next by pu; spot drops it
// as covered (u ≤ lastUpdateId) and chains the next by U. Either way the
// book is live after one fetch, without a gap. COIN-M takes its snapshot
// from /dapi/v1/depth.
func TestBinanceJoinOnLastUpdateID(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		diffs      []*schema.CanonicalEvent
		applied    uint64
		stale      uint64
	}{
		{name: "coin-m", path: BinanceCOINMDepth, diffs: []*schema.CanonicalEvent{
			bookEv(schema.VenueBinance, schema.EventBookUpdate, 990, 1000, 985, []schema.Level{lvl("100.0", "4")}, nil),
			bookEv(schema.VenueBinance, schema.EventBookUpdate, 1003, 1007, 1000, []schema.Level{lvl("98.5", "1")}, nil),
		}, applied: 2},
		{name: "spot", path: BinanceSpotDepth, diffs: []*schema.CanonicalEvent{
			bookEv(schema.VenueBinance, schema.EventBookUpdate, 990, 1000, 0, []schema.Level{lvl("100.0", "1")}, nil),
			bookEv(schema.VenueBinance, schema.EventBookUpdate, 1001, 1007, 0, []schema.Level{lvl("98.5", "1")}, nil),
		}, applied: 1, stale: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newDepthServer(t, tc.path, `{"lastUpdateId":1000,"bids":[["100.0","1"]],"asks":[["101.0","3"]]}`)
			bk, sink, _ := newRecBook(t, Binance, "BTC-USDT", &Options{Fetcher: &BinanceREST{BaseURL: srv.srv.URL, Path: tc.path,
				VenueSymbol: func(string) (string, error) { return "BTCUSD_PERP", nil }}})
			ctx := context.Background()
			for _, d := range tc.diffs {
				require.NoError(t, bk.Apply(ctx, d))
			}
			require.True(t, bk.Live())
			require.Equal(t, uint64(1007), bk.LastSeq())
			st := bk.Stats()
			require.Equal(t, tc.applied, st.Applied)
			require.Equal(t, tc.stale, st.Stale)
			require.Equal(t, uint64(1), st.Fetches)
			require.Empty(t, sink.ofType(schema.EventGap))
			require.Len(t, srv.requests(), 1)
			require.True(t, strings.HasPrefix(srv.requests()[0], tc.path+"?symbol=BTCUSD_PERP&"))
			requireTop(t, bk, [][2]string{{"100.0", map[string]string{"coin-m": "4", "spot": "1"}[tc.name]}, {"98.5", "1"}}, nil)
		})
	}
}

// A Binance USDⓈ-M diff whose pu is not the previous u is a gap: one
// marker naming the ids after the last u up to pu, a new fetch.
func TestBinanceFuturesGap(t *testing.T) {
	var fetches int
	bk, sink, _ := newRecBook(t, Binance, "BTC-USDT", &Options{Fetcher: FetcherFunc(func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
		fetches++
		dst.Book.Bids = append(dst.Book.Bids, lvl("100", "1"))
		dst.Book.LastSeq = []uint64{1000, 1030}[min(fetches-1, 1)]
		return nil
	})})
	ctx := context.Background()
	require.NoError(t, bk.Apply(ctx, bookEv(schema.VenueBinance, schema.EventBookUpdate, 995, 1003, 990, nil, nil)))
	require.NoError(t, bk.Apply(ctx, bookEv(schema.VenueBinance, schema.EventBookUpdate, 1016, 1020, 1014, nil, nil)))
	m := requireMarker(t, sink, 1, ReasonGap)
	require.Equal(t, uint64(1004), m.Control.GapFirstSeq)
	require.Equal(t, uint64(1014), m.Control.GapLastSeq)
	require.Equal(t, 2, fetches)
	require.True(t, bk.Live(), "the second snapshot (1030) covers the buffered diff")
	require.Equal(t, uint64(1), bk.Stats().Gaps)
}

// sequencedVenue is a venue whose book messages carry ids, and how to
// number a clean stream of diffs after a snapshot at 1000.
type sequencedVenue struct {
	name string
	rule Rule
	// diff returns the i-th diff's ids (from 0) after a snapshot at 1000.
	diff func(i uint64) (first, last, prev uint64)
}

var sequencedVenues = []sequencedVenue{
	{"binance spot", Binance, func(i uint64) (uint64, uint64, uint64) { return 1001 + 3*i, 1003 + 3*i, 0 }},
	{"binance futures", Binance, func(i uint64) (uint64, uint64, uint64) {
		prev := uint64(1000) // the snapshot's id, then the previous u; U skips ids
		if i > 0 {
			prev = 999 + 5*i
		}
		return 1002 + 5*i, 1004 + 5*i, prev
	}},
	{"okx", OKX, func(i uint64) (uint64, uint64, uint64) { return 0, 1007 + 7*i, 1000 + 7*i }},
	{"bybit", Bybit, func(i uint64) (uint64, uint64, uint64) { return 0, 1001 + i, 0 }},
}

// newSequenced returns a live book of v at 1000 with one bid level, and a
// function making its i-th diff.
func newSequenced(t *testing.T, v sequencedVenue, o *Options) (*Book, *recSink, func(i uint64, bid schema.Level) *schema.CanonicalEvent) {
	t.Helper()
	snap := bookEv(v.rule.Venue, schema.EventBookSnapshot, 0, 1000, 0, []schema.Level{lvl("100", "1")}, []schema.Level{lvl("101", "1")})
	var opts Options
	if o != nil {
		opts = *o
	}
	if v.rule.Resync == ResyncFetch {
		opts.Fetcher = wholeBook{func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
			snap.CloneInto(dst)
			return nil
		}}
	}
	bk, sink, _ := newRecBook(t, v.rule, "BTC-USDT", &opts)
	diff := func(i uint64, bid schema.Level) *schema.CanonicalEvent {
		first, last, prev := v.diff(i)
		return bookEv(v.rule.Venue, schema.EventBookUpdate, first, last, prev, []schema.Level{bid}, nil)
	}
	ctx := context.Background()
	if v.rule.Resync == ResyncFetch {
		require.NoError(t, bk.Apply(ctx, diff(0, lvl("99", "1"))))
	} else {
		require.NoError(t, bk.Apply(ctx, snap))
		require.NoError(t, bk.Apply(ctx, diff(0, lvl("99", "1"))))
	}
	require.True(t, bk.Live())
	require.Equal(t, uint64(1), bk.Stats().Applied)
	return bk, sink, diff
}

// A repeat — the last diff again, or an older one, as a venue's resend or
// a connection rotation delivers it — is dropped and counted on every
// venue with ids: no gap, no marker, no fetch or resubscription, the book
// unchanged and still continuing.
func TestRepeatIsStale(t *testing.T) {
	for _, v := range sequencedVenues {
		t.Run(v.name, func(t *testing.T) {
			var resubs int
			bk, sink, diff := newSequenced(t, v, &Options{Resubscribe: func(context.Context, schema.Venue, string) error { resubs++; return nil }})
			ctx := context.Background()
			fetches := bk.Stats().Fetches
			require.NoError(t, bk.Apply(ctx, diff(1, lvl("98", "1"))))
			require.NoError(t, bk.Apply(ctx, diff(2, lvl("97", "1"))))
			// Repeats that would change the book if applied.
			require.NoError(t, bk.Apply(ctx, diff(2, lvl("97", "5"))))
			require.NoError(t, bk.Apply(ctx, diff(1, lvl("98", "5"))))
			require.NoError(t, bk.Apply(ctx, diff(0, lvl("99", "5"))))
			st := bk.Stats()
			require.Equal(t, uint64(3), st.Stale)
			require.Zero(t, st.Gaps)
			require.Zero(t, st.Markers)
			require.Equal(t, fetches, st.Fetches)
			require.Zero(t, resubs)
			require.True(t, bk.Live())
			requireTop(t, bk, [][2]string{{"100", "1"}, {"99", "1"}, {"98", "1"}, {"97", "1"}}, nil)
			require.NoError(t, bk.Apply(ctx, diff(3, lvl("96", "1"))))
			require.Equal(t, uint64(4), bk.Stats().Applied, "the stream carries on after the repeats")
			require.Empty(t, sink.ofType(schema.EventGap))
		})
	}
}

// A lost diff is a gap on every venue with ids: one marker, the book
// cleared, a resync asked.
func TestGapEveryVenue(t *testing.T) {
	for _, v := range sequencedVenues {
		t.Run(v.name, func(t *testing.T) {
			var resubs int
			bk, sink, diff := newSequenced(t, v, &Options{Resubscribe: func(context.Context, schema.Venue, string) error { resubs++; return nil }})
			ctx := context.Background()
			fetches := bk.Stats().Fetches
			err := bk.Apply(ctx, diff(2, lvl("97", "1"))) // diff 1 lost
			requireMarker(t, sink, 1, ReasonGap)
			require.False(t, bk.Live())
			st := bk.Stats()
			require.Equal(t, uint64(1), st.Gaps)
			if v.rule.Resync == ResyncFetch {
				require.ErrorIs(t, err, ErrStale, "the fetcher still serves the snapshot at 1000")
				require.Greater(t, st.Fetches, fetches)
			} else {
				require.NoError(t, err)
				require.Equal(t, 1, resubs)
			}
		})
	}
}

// OKX's documented exceptions: a keep-alive (no levels, prevSeqId = seqId
// = the last seqId) changes nothing and breaks nothing; after maintenance
// a reset (seqId < prevSeqId) continues the book and the ids carry on from
// the new seqId.
func TestOKXKeepAliveAndReset(t *testing.T) {
	bk, sink, _ := newRecBook(t, OKX, "BTC-USDT", nil)
	ctx := context.Background()
	okx := func(typ schema.EventType, seq, prev uint64, bids ...schema.Level) *schema.CanonicalEvent {
		return bookEv(schema.VenueOKX, typ, 0, seq, prev, bids, []schema.Level{lvl("101", "1")})
	}
	require.NoError(t, bk.Apply(ctx, okx(schema.EventBookSnapshot, 500, 0, lvl("100", "1"))))
	keepAlive := bookEv(schema.VenueOKX, schema.EventBookUpdate, 0, 500, 500, nil, nil)
	for range 3 {
		require.NoError(t, bk.Apply(ctx, keepAlive))
	}
	require.True(t, bk.Live())
	require.Equal(t, uint64(500), bk.LastSeq())
	require.NoError(t, bk.Apply(ctx, okx(schema.EventBookUpdate, 507, 500, lvl("99", "2"))))
	require.NoError(t, bk.Apply(ctx, okx(schema.EventBookUpdate, 3, 507, lvl("98", "3")))) // reset
	require.NoError(t, bk.Apply(ctx, okx(schema.EventBookUpdate, 9, 3, lvl("97", "4"))))
	require.NoError(t, bk.Apply(ctx, okx(schema.EventBookUpdate, 3, 507, lvl("98", "9")))) // the reset again: a repeat
	require.True(t, bk.Live())
	require.Equal(t, uint64(9), bk.LastSeq())
	st := bk.Stats()
	require.Zero(t, st.Gaps)
	require.Equal(t, uint64(1), st.Stale)
	require.Empty(t, sink.ofType(schema.EventGap))
	requireTop(t, bk, [][2]string{{"100", "1"}, {"99", "2"}, {"98", "3"}, {"97", "4"}}, nil)

	// Numbering that restarts without its reset message is a gap, not a
	// run of repeats that would leave the book silently stale.
	require.NoError(t, bk.Apply(ctx, okx(schema.EventBookUpdate, 4, 2, lvl("96", "1"))))
	require.False(t, bk.Live())
	requireMarker(t, sink, 1, ReasonGap)
}

// Bybit u = 1 is the venue's restart: its data is a snapshot, applied as
// one whether the book is live or waiting; the stream continues from 1.
// Numbering that falls back without u = 1 is a gap.
func TestBybitRestart(t *testing.T) {
	bk, sink, _ := newRecBook(t, Bybit, "BTC-USDT", nil)
	ctx := context.Background()
	require.NoError(t, bk.Apply(ctx, bybitEvent(t, readVenue(t, "bybit_v5_orderbook_snapshot.json"))))
	require.NoError(t, bk.Apply(ctx, bybitEvent(t, readVenue(t, "bybit_v5_orderbook_delta.json"))))
	restart := bookEv(schema.VenueBybit, schema.EventBookUpdate, 0, 1, 0, []schema.Level{lvl("75000", "1")}, []schema.Level{lvl("75001", "2")})
	require.NoError(t, bk.Apply(ctx, restart))
	require.True(t, bk.Live())
	require.Equal(t, uint64(1), bk.LastSeq())
	requireTop(t, bk, [][2]string{{"75000", "1"}}, [][2]string{{"75001", "2"}})
	var top schema.CanonicalEvent
	bk.Top(0, &top)
	require.Len(t, top.Book.Bids, 1, "the restart replaced the book")
	require.NoError(t, bk.Apply(ctx, bookEv(schema.VenueBybit, schema.EventBookUpdate, 0, 2, 0, []schema.Level{lvl("74999", "1")}, nil)))
	require.Equal(t, uint64(1), bk.Stats().Restarts)
	require.Empty(t, sink.ofType(schema.EventGap))

	// Waiting for a snapshot after a gap: u = 1 brings the book back.
	require.NoError(t, bk.Apply(ctx, bookEv(schema.VenueBybit, schema.EventBookUpdate, 0, 9, 0, nil, nil)))
	require.False(t, bk.Live())
	require.NoError(t, bk.Apply(ctx, restart))
	require.True(t, bk.Live())

	// u falling back without the restart message: a gap. (Below where the
	// stream was before the snapshot: ids between that and the snapshot
	// are covered, as a rotation's old connection still sends them.)
	for u := uint64(2); u <= 20; u++ {
		require.NoError(t, bk.Apply(ctx, bookEv(schema.VenueBybit, schema.EventBookUpdate, 0, u, 0, nil, nil)))
	}
	require.NoError(t, bk.Apply(ctx, bookEv(schema.VenueBybit, schema.EventBookSnapshot, 0, 500, 0, []schema.Level{lvl("1", "1")}, nil)))
	require.NoError(t, bk.Apply(ctx, bookEv(schema.VenueBybit, schema.EventBookUpdate, 0, 501, 0, nil, nil)))
	require.NoError(t, bk.Apply(ctx, bookEv(schema.VenueBybit, schema.EventBookUpdate, 0, 7, 0, nil, nil)))
	require.False(t, bk.Live())
	requireMarker(t, sink, 2, ReasonGap)
}

// Venues without ids in their book messages (Kraken, Coinbase): a repeated
// update sets the same absolute quantities again; the book is unchanged
// and Kraken's checksum still matches.
func TestRepeatWithoutIDs(t *testing.T) {
	rule := KrakenV1
	rule.Depth = 1000
	bk, sink, _ := newRecBook(t, rule, "XMR-USD", nil)
	_, upd := replayPair(t, bk, krakenEvent, "kraken_v1_book_snapshot.json", "kraken_v1_book_update.json", nil)
	var before, after schema.CanonicalEvent
	bk.Top(0, &before)
	require.NoError(t, bk.Apply(context.Background(), upd))
	bk.Top(0, &after)
	require.True(t, bk.Live())
	require.Equal(t, levelText(before.Book.Bids), levelText(after.Book.Bids))
	require.Equal(t, levelText(before.Book.Asks), levelText(after.Book.Asks))
	require.Zero(t, bk.Stats().ChecksumErrors)
	require.Equal(t, uint64(2), bk.Stats().Checksums)
	require.Empty(t, sink.ofType(schema.EventGap))
}

// A gap marker that names no symbol — a connection's lost message
// (Coinbase sequence_num) — invalidates every book of its venue through
// Books, and no other venue's.
func TestConnectionGapInvalidatesVenue(t *testing.T) {
	events := schema.NewPools(nil).Events
	sink := &recSink{events: events}
	books := NewBooks(sink, events, nil)
	var cb []*Book
	for _, sym := range []string{"BTC-USD", "ETH-USD"} {
		b, err := NewBook(Coinbase, sym, &Options{Sink: sink, Events: events})
		require.NoError(t, err)
		books.Add(b)
		cb = append(cb, b)
	}
	other, err := NewBook(Bybit, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(other)
	ctx := context.Background()
	for _, b := range append(cb, other) {
		snap := bookEv(b.Venue(), schema.EventBookSnapshot, 0, 10, 0, []schema.Level{lvl("1", "1")}, []schema.Level{lvl("2", "1")})
		snap.Symbol = b.Symbol()
		require.NoError(t, b.Apply(ctx, snap))
		require.True(t, b.Live())
	}
	marker := publishPooled(t, events, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Type = schema.VenueCoinbase, schema.EventGap
		ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: schema.EventUnknown, GapFirstSeq: 41, GapLastSeq: 43, Reason: "sequence_num jumped"}
	})
	require.NoError(t, books.Publish(ctx, marker))
	for _, b := range cb {
		require.False(t, b.Live(), b.Symbol())
		_, live := b.BBO()
		require.False(t, live)
	}
	require.True(t, other.Live())
	require.Len(t, sink.ofType(schema.EventGap), 3, "the upstream marker and one per Coinbase book")
}

// publishPooled takes an event from events and fills it.
func publishPooled(t testing.TB, events *pool.Pool[*schema.CanonicalEvent], fill func(*schema.CanonicalEvent)) *schema.CanonicalEvent {
	t.Helper()
	ev, err := events.Get(context.Background())
	require.NoError(t, err)
	fill(ev)
	return ev
}
