package meltica_test

// Outside contract tests, round 4 (s29ct): the book's promises under any
// sequence of diffs, written from normalize/book/doc.go and DESIGN.md
// contract 4 ("a strategy never trades on a book it does not know is
// broken") without reading the book.

import (
	"context"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s29ctModel is the venue's book: price text to quantity text, per side.
type s29ctModel struct {
	bids, asks map[int]string // price in ticks -> qty text
}

func (m *s29ctModel) side(bid bool) map[int]string {
	if bid {
		return m.bids
	}
	return m.asks
}

func (m *s29ctModel) clone() s29ctModel {
	c := s29ctModel{bids: map[int]string{}, asks: map[int]string{}}
	for p, q := range m.bids {
		c.bids[p] = q
	}
	for p, q := range m.asks {
		c.asks[p] = q
	}
	return c
}

// sorted returns a side best first.
func (m *s29ctModel) sorted(bid bool) []int {
	var ps []int
	for p := range m.side(bid) {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	if bid {
		slices.Reverse(ps)
	}
	return ps
}

func s29ctPx(p int) string { return strconv.Itoa(p/10) + "." + strconv.Itoa(p%10) }

// okxChecksum is OKX's: the top 25 levels interleaved
// "bid1px:bid1sz:ask1px:ask1sz:...", CRC32 (IEEE) as a signed 32-bit
// integer (OKX API v5, "Order book channel", checksum).
func (m *s29ctModel) okxChecksum() uint32 {
	b, a := m.sorted(true), m.sorted(false)
	var parts []string
	for i := 0; i < 25; i++ {
		if i < len(b) {
			parts = append(parts, s29ctPx(b[i]), m.bids[b[i]])
		}
		if i < len(a) {
			parts = append(parts, s29ctPx(a[i]), m.asks[a[i]])
		}
	}
	return uint32(int32(crc32.ChecksumIEEE([]byte(strings.Join(parts, ":")))))
}

// s29ctBookSink keeps what a book publishes.
type s29ctBookSink struct {
	events *pool.Pool[*schema.CanonicalEvent]
	mu     sync.Mutex
	gaps   []string
	bbos   []schema.BBO
}

func (s *s29ctBookSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.mu.Lock()
	switch ev.Type {
	case schema.EventGap:
		s.gaps = append(s.gaps, ev.Control.Reason)
	case schema.EventBBO:
		s.bbos = append(s.bbos, ev.BBO)
	}
	s.mu.Unlock()
	s.events.Put(ev)
	return nil
}

// normalize/book/doc.go, "When the book is wrong": a gap, a checksum that
// does not match, or sides that cross or lock "make the book invalid: it
// drops every level at once — nothing stale survives a resync, Book.BBO
// and Book.Top report not live and serve nothing — publishes a gap marker
// ..., withdraws the best bid/offer it published ..., and resynchronises
// by itself"; "A marker goes out once per breakage"; a repeat "is dropped
// and counted (Stats.Stale), never a gap, never a resync"; OKX keep-alives
// (no levels, prevSeqId = seqId) are continuous.
//
// A random OKX books stream of 4,000 messages (fixed seeds) — snapshots,
// chained diffs with the venue's true checksum, and faults: a gap, a wrong
// checksum, a diff that crosses the sides (with the venue's checksum of the
// crossed book), a repeat, a keep-alive — checked after every message
// against the venue's own book: while live the book equals it level for
// level and is never crossed; after each fault it is not live, serves
// nothing, published exactly one marker and the empty quote, asked for one
// resubscription, and is live again with the next snapshot.
func TestS29ctBookModelOKX(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { s29ctBookModel(t, seed, 4000, "okx") })
	}
}

// The same for Bybit orderbook.50 ("Orderbook": u = previous u + 1; u = 1
// is the service's restart, "its data is a snapshot, applied as one"; no
// checksum): snapshots (some with u = 1, a restart), chained deltas, gaps,
// crossed deltas and repeats, the book kept equal to the venue's (at most
// 40 levels a side, inside the view) and never served crossed.
func TestS29ctBookModelBybit(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { s29ctBookModel(t, seed, 4000, "bybit") })
	}
}

// The same for Kraken v2 books of depth 10 (no ids: "the checksum is the
// check"; the top 10 asks then bids at the pair's precision, the decimal
// point removed and leading zeros stripped, CRC32; the book truncates to
// its depth, since Kraken sends no delete for a level pushed out of the
// view): snapshots, updates with the venue's checksum, a lost update (the
// next one's checksum no longer matches), a wrong checksum and a crossed
// update — each a fault the book must catch.
func TestS29ctBookModelKraken(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { s29ctBookModel(t, seed, 4000, "kraken") })
	}
}

// krakenChecksum is Kraken's over the top 10 asks then bids, prices at 1
// decimal and quantities at 8 (the pair's precision here).
func (m *s29ctModel) krakenChecksum() uint32 {
	var sb strings.Builder
	strip := func(s string) string {
		s = strings.TrimLeft(strings.ReplaceAll(s, ".", ""), "0")
		return s
	}
	for _, bid := range []bool{false, true} {
		for i, p := range m.sorted(bid) {
			if i == 10 {
				break
			}
			whole, frac, _ := strings.Cut(m.side(bid)[p], ".")
			sb.WriteString(strip(s29ctPx(p)))
			sb.WriteString(strip(whole + (frac + "00000000")[:8]))
		}
	}
	return crc32.ChecksumIEEE([]byte(sb.String()))
}

// truncate keeps the best n levels a side (Kraken's view).
func (m *s29ctModel) truncate(n int) {
	for _, bid := range []bool{true, false} {
		for i, p := range m.sorted(bid) {
			if i >= n {
				delete(m.side(bid), p)
			}
		}
	}
}

func s29ctBookModel(t *testing.T, seed uint64, n int, venueName string) {
	bybit, kraken := venueName == "bybit", venueName == "kraken"
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 29))
	pools := schema.NewPools(nil)
	sink := &s29ctBookSink{events: pools.Events}
	resubs := 0
	rule, venue, depth := book.OKX, schema.VenueOKX, 400
	if bybit {
		rule, venue, depth = book.Bybit, schema.VenueBybit, 50
	}
	if kraken {
		rule, venue, depth = book.KrakenV2, schema.VenueKraken, 10
		rule.PriceScale, rule.QtyScale = 1, 8
	}
	b, err := book.NewBook(rule, "BTC-USDT", &book.Options{Sink: sink, Events: pools.Events,
		Resubscribe: func(context.Context, schema.Venue, string) error { resubs++; return nil }})
	require.NoError(t, err)

	m := &s29ctModel{}
	var seq uint64 = 1000
	var clock int64 = 1_700_000_000_000
	live := false // what the book must say
	ev, err := pools.Events.Get(ctx)
	require.NoError(t, err)
	defer pools.Events.Put(ev)
	top, err := pools.Events.Get(ctx)
	require.NoError(t, err)
	defer pools.Events.Put(top)

	fill := func(typ schema.EventType, prev, last uint64, bids, asks [][2]string, sum uint32) {
		ev.Reset()
		ev.Venue, ev.Symbol, ev.Type = venue, "BTC-USDT", typ
		ev.SeqProvider = last
		clock++
		ev.ExchangeTS, ev.IngestTS = clock*1e6, clock*1e6
		ev.Book.PrevSeq, ev.Book.LastSeq = prev, last
		ev.Book.Checksum, ev.Book.HasChecksum = sum, !bybit
		if bybit {
			ev.Book.PrevSeq, ev.Book.Checksum = 0, 0
		}
		if kraken {
			ev.SeqProvider, ev.Book.PrevSeq, ev.Book.LastSeq = 0, 0, 0
		}
		ev.Book.Depth = depth
		for _, l := range bids {
			ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.MustParseDecimal(l[0]), Qty: schema.MustParseDecimal(l[1])})
		}
		for _, l := range asks {
			ev.Book.Asks = append(ev.Book.Asks, schema.Level{Price: schema.MustParseDecimal(l[0]), Qty: schema.MustParseDecimal(l[1])})
		}
	}
	sum := func() uint32 {
		if kraken {
			m.truncate(10)
			return m.krakenChecksum()
		}
		return m.okxChecksum()
	}
	qty := func() string { return strconv.Itoa(rng.IntN(50)+1) + "." + strconv.Itoa(rng.IntN(100)) }
	snapshot := func() {
		m.bids, m.asks = map[int]string{}, map[int]string{}
		mid := 1000 + rng.IntN(200)
		var bids, asks [][2]string
		for i := 1; i <= 5+rng.IntN(30); i++ {
			p := mid - i*(1+rng.IntN(3))
			if _, ok := m.bids[p]; !ok {
				m.bids[p] = qty()
			}
		}
		for i := 1; i <= 5+rng.IntN(30); i++ {
			p := mid + i*(1+rng.IntN(3))
			if _, ok := m.asks[p]; !ok {
				m.asks[p] = qty()
			}
		}
		if kraken {
			m.truncate(10) // a snapshot of the view
		}
		for _, p := range m.sorted(true) {
			bids = append(bids, [2]string{s29ctPx(p), m.bids[p]})
		}
		for _, p := range m.sorted(false) {
			asks = append(asks, [2]string{s29ctPx(p), m.asks[p]})
		}
		seq += uint64(1 + rng.IntN(100))
		if bybit && rng.IntN(5) == 0 {
			seq = 1 // the service restarted: u = 1
		}
		fill(schema.EventBookSnapshot, 0, seq, bids, asks, sum())
	}
	// diff changes a few levels on the venue's book (never crossing unless
	// cross) and fills ev with it and the book's checksum after it.
	diff := func(cross bool) {
		var bids, asks [][2]string
		for k := 0; k < 1+rng.IntN(4); k++ {
			bid := rng.IntN(2) == 0
			sb, sa := m.sorted(true), m.sorted(false)
			var p int
			switch {
			case bid && len(sb) > 0 && rng.IntN(3) == 0:
				p = sb[rng.IntN(len(sb))] // change or delete one
			case bid:
				hi := 990
				if len(sa) > 0 {
					hi = sa[0] - 1
				}
				p = hi - rng.IntN(40)
			case len(sa) > 0 && rng.IntN(3) == 0:
				p = sa[rng.IntN(len(sa))]
			default:
				lo := 1210
				if len(sb) > 0 {
					lo = sb[0] + 1
				}
				p = lo + rng.IntN(40)
			}
			q := qty()
			if _, ok := m.side(bid)[p]; ok && rng.IntN(2) == 0 {
				q = "0"
			} else if !ok && len(m.side(bid)) >= 40 {
				continue // the view holds at most 40 here
			}
			if q == "0" {
				delete(m.side(bid), p)
			} else {
				m.side(bid)[p] = q
			}
			if bid {
				bids = append(bids, [2]string{s29ctPx(p), q})
			} else {
				asks = append(asks, [2]string{s29ctPx(p), q})
			}
		}
		if cross {
			sa := m.sorted(false)
			p := 1300
			if len(sa) > 0 {
				p = sa[0] + rng.IntN(2) // locked or crossed
			}
			q := qty()
			m.bids[p] = q
			bids = append(bids, [2]string{s29ctPx(p), q})
		}
		prev := seq
		seq += uint64(1 + rng.IntN(5))
		if bybit {
			seq = prev + 1
		}
		fill(schema.EventBookUpdate, prev, seq, bids, asks, sum())
	}

	check := func(i int, what string) {
		t.Helper()
		bbo, ok := b.BBO()
		require.Equal(t, live, ok, "message %d (%s): live", i, what)
		got := b.Top(0, top)
		require.Equal(t, live, got, "message %d (%s): Top live", i, what)
		if !live {
			require.Empty(t, top.Book.Bids, "message %d (%s): a broken book serves nothing", i, what)
			require.Empty(t, top.Book.Asks, "message %d (%s): a broken book serves nothing", i, what)
			return
		}
		if !bbo.BidPrice.IsZero() && !bbo.AskPrice.IsZero() {
			require.Negative(t, bbo.BidPrice.Cmp(bbo.AskPrice), "message %d (%s): a live book crossed: %+v", i, what, bbo)
		}
		var wantB, wantA []string
		for _, p := range m.sorted(true) {
			wantB = append(wantB, s29ctPx(p)+"@"+m.bids[p])
		}
		for _, p := range m.sorted(false) {
			wantA = append(wantA, s29ctPx(p)+"@"+m.asks[p])
		}
		var gotB, gotA []string
		for _, l := range top.Book.Bids {
			gotB = append(gotB, l.Price.String()+"@"+l.Qty.String())
		}
		for _, l := range top.Book.Asks {
			gotA = append(gotA, l.Price.String()+"@"+l.Qty.String())
		}
		require.Equal(t, wantB, gotB, "message %d (%s): bids", i, what)
		require.Equal(t, wantA, gotA, "message %d (%s): asks", i, what)
	}

	snapshot()
	require.NoError(t, b.Apply(ctx, ev))
	live = true
	check(0, "first snapshot")
	for i := 1; i < n; i++ {
		markers, quotes, res, deferred := len(sink.gaps), len(sink.bbos), resubs, b.Stats().Deferred
		r := rng.IntN(100)
		fault := false
		what := ""
		switch {
		case !live && r < 50 || r < 3:
			what = "snapshot"
			snapshot()
			live = true
		case r < 6 && kraken:
			// a lost update: the best bid's quantity changed on the
			// venue, unsent; the next update (of the best ask) carries the
			// checksum of the venue's book
			what = "lost update"
			sb, sa := m.sorted(true), m.sorted(false)
			if len(sb) == 0 || len(sa) == 0 {
				what = "snapshot"
				snapshot()
				live = true
				break
			}
			if m.bids[sb[0]] == "77.7" {
				m.bids[sb[0]] = "77.8"
			} else {
				m.bids[sb[0]] = "77.7"
			}
			q := qty()
			m.asks[sa[0]] = q
			fill(schema.EventBookUpdate, 0, 0, nil, [][2]string{{s29ctPx(sa[0]), q}}, sum())
			fault = live
			live = false
		case r < 6:
			what = "gap"
			diff(false)
			ev.Book.PrevSeq -= 1 + uint64(rng.IntN(3)) // the diff before it lost
			if bybit {
				seq += 1 + uint64(rng.IntN(3))
				ev.Book.LastSeq, ev.SeqProvider = seq, seq
			}
			fault = live
			live = false
		case r < 9 && !bybit:
			what = "bad checksum"
			diff(false)
			ev.Book.Checksum ^= 1 << rng.IntN(32)
			fault = live
			live = false
		case r < 12:
			what = "crossed"
			diff(true)
			fault = live
			live = false
		case r < 15 && live && !bybit && !kraken:
			what = "keep-alive"
			fill(schema.EventBookUpdate, seq, seq, nil, nil, sum())
		case r < 18 && live && seq > 1 && !kraken:
			what = "repeat"
			old := seq
			before := m.clone()
			diff(false) // build it, but first send it with ids the book covers
			after := *m
			ev.Book.PrevSeq, ev.Book.LastSeq, ev.SeqProvider = old-1, old, old
			if bybit {
				ev.Book.PrevSeq = 0
			}
			*m = before // the book must drop it: the venue's book as it was
			require.NoError(t, b.Apply(ctx, ev))
			check(i, what)
			*m = after
			assert.Equal(t, markers, len(sink.gaps), "message %d: a repeat is never a gap", i)
			ev.Book.PrevSeq, ev.Book.LastSeq, ev.SeqProvider = old, seq, seq
			if bybit {
				ev.Book.PrevSeq = 0
			}
			what = "diff after a repeat"
		default:
			what = "diff"
			diff(false)
		}
		require.NoError(t, b.Apply(ctx, ev))
		check(i, what)
		if fault {
			require.Equal(t, markers+1, len(sink.gaps), "message %d (%s): one marker", i, what)
			require.Greater(t, len(sink.bbos), quotes, "message %d (%s): the quote withdrawn", i, what)
			last := sink.bbos[len(sink.bbos)-1]
			require.True(t, last.BidPrice.IsZero() && last.AskPrice.IsZero(), "message %d (%s): the empty quote last: %+v", i, what, last)
			// One resubscription, unless the backoff of a book that
			// breaks after every resync puts it off (counted).
			if resubs != res+1 {
				require.Equal(t, res, resubs, "message %d (%s): at most one resubscription", i, what)
				require.Greater(t, b.Stats().Deferred, deferred, "message %d (%s): a resubscription put off is counted", i, what)
			}
		} else if what != "snapshot" {
			require.Equal(t, markers, len(sink.gaps), "message %d (%s): no marker", i, what)
		}
	}
	st := b.Stats()
	t.Logf("%+v", st)
	assert.NotZero(t, st.Crossed)
	if !bybit {
		assert.NotZero(t, st.ChecksumErrors)
	} else {
		assert.NotZero(t, st.Restarts)
	}
	if kraken {
		return
	}
	assert.NotZero(t, st.Gaps)
	assert.NotZero(t, st.Stale)
}
