package meltica_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
)

// s31ctOKXRest is OKX's GET /api/v5/market/books on loopback: each fetch
// answers the next snapshot the test queued (the last one again when the
// queue is empty), in OKX's shape ({"code":"0","msg":"","data":[{"asks",
// "bids","ts","seqId"}]}, levels [price, size, "0", orders]).
type s31ctOKXRest struct {
	mu    sync.Mutex
	snaps []string
	asked []string // the query of each fetch
	srv   *httptest.Server
}

func s31ctOKXSnap(seq uint64, bids, asks [][2]string) string {
	side := func(ls [][2]string) string {
		var parts []string
		for _, l := range ls {
			parts = append(parts, fmt.Sprintf(`[%q,%q,"0","1"]`, l[0], l[1]))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprintf(`{"code":"0","msg":"","data":[{"asks":%s,"bids":%s,"ts":"1700000000000","seqId":%d}]}`, side(asks), side(bids), seq)
}

func newS31ctOKXRest(t *testing.T, snaps ...string) *s31ctOKXRest {
	r := &s31ctOKXRest{snaps: snaps}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if q.URL.Path != "/api/v5/market/books" {
			http.NotFound(w, q)
			return
		}
		r.asked = append(r.asked, q.URL.RawQuery)
		body := r.snaps[0]
		if len(r.snaps) > 1 {
			r.snaps = r.snaps[1:]
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *s31ctOKXRest) queue(snaps ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snaps = append(r.snaps[:0], snaps...)
}

func (r *s31ctOKXRest) fetches() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.asked)
}

// newS31ctOKXFetchBook is an OKXFetch book of BTC-USDT whose snapshots
// come from rest, fed like s30ctOKXBook.
func newS31ctOKXFetchBook(t *testing.T, rest *s31ctOKXRest) *s30ctOKXBook {
	x := &s30ctOKXBook{t: t, pools: schema.NewPools(nil)}
	x.sink = &s29ctBookSink{events: x.pools.Events}
	b, err := book.NewBook(book.OKXFetch, "BTC-USDT", &book.Options{Sink: x.sink, Events: x.pools.Events,
		Fetcher: &book.OKXREST{BaseURL: rest.srv.URL}})
	require.NoError(t, err)
	t.Cleanup(b.Close)
	x.b = b
	return x
}

func s31ctTop(t *testing.T, b *book.Book) (bid, ask string) {
	t.Helper()
	bbo, ok := b.BBO()
	require.True(t, ok, "the book serves its best bid/offer")
	return bbo.BidPrice.String() + "x" + bbo.BidQty.String(), bbo.AskPrice.String() + "x" + bbo.AskQty.String()
}

// OKX delisted the initial snapshot of its books channels (API changelog
// "Delist initial snapshot and checksum field in order book channels");
// its "How to manage a local order book correctly" takes the snapshot from
// GET /api/v5/market/books and aligns it on seqId: the diffs the snapshot
// covers are dropped, the first applied has prevSeqId ≤ the snapshot's
// seqId < its seqId, the rest chain by prevSeqId. The stream's own
// "snapshot" event (no levels now) must not make the book live, empty.
//
// The stream: the empty snapshot event (seqId 5), diffs 5→8, 8→10,
// 10→12, 12→15, 15→18; the venue's REST snapshot is at seqId 12. The
// book must hold the REST levels with 15 and 18 applied on them — not
// 8, 10 and 12 applied twice — then follow a maintenance reset (18→3,
// 3→5, continuous as OKX documents) and a keep-alive (5→5).
func TestS31ctOKXRestJoinAppliesOnlyWhatTheSnapshotMisses(t *testing.T) {
	rest := newS31ctOKXRest(t, s31ctOKXSnap(12,
		[][2]string{{"100.0", "4"}, {"99.0", "1"}},
		[][2]string{{"101.0", "4"}, {"102.0", "1"}}))
	x := newS31ctOKXFetchBook(t, rest)

	x.apply(schema.EventBookSnapshot, 0, 5, nil, nil)
	assert.False(t, x.b.Live(), "an empty stream snapshot makes no live book")
	// Each diff changes the best bid's quantity to its own seqId: a diff
	// applied that the snapshot covers shows at once.
	x.apply(schema.EventBookUpdate, 5, 8, [][2]string{{"100.0", "8"}}, nil)
	x.apply(schema.EventBookUpdate, 8, 10, [][2]string{{"100.0", "10"}}, nil)
	x.apply(schema.EventBookUpdate, 10, 12, [][2]string{{"100.0", "12"}}, [][2]string{{"101.0", "0"}})
	x.apply(schema.EventBookUpdate, 12, 15, nil, [][2]string{{"101.5", "15"}})
	require.True(t, x.b.Live(), "live once the REST snapshot joined the stream; stats %+v", x.b.Stats())
	bid, ask := s31ctTop(t, x.b)
	assert.Equal(t, "100.0x4", bid, "the snapshot's bid: diffs 8, 10 and 12 are in it, never applied again")
	assert.Equal(t, "101.0x4", ask, "diff 12's delete of 101.0 is in the snapshot's past, diff 15's 101.5 is behind 101.0")
	x.apply(schema.EventBookUpdate, 15, 18, [][2]string{{"100.5", "18"}}, nil)
	bid, _ = s31ctTop(t, x.b)
	assert.Equal(t, "100.5x18", bid)

	// OKX "Order book channel": a sequence reset after maintenance
	// (seqId < prevSeqId) and a keep-alive (prevSeqId = seqId) are
	// continuous.
	x.apply(schema.EventBookUpdate, 18, 3, nil, [][2]string{{"100.8", "3"}})
	x.apply(schema.EventBookUpdate, 3, 5, [][2]string{{"100.6", "5"}}, nil)
	x.apply(schema.EventBookUpdate, 5, 5, nil, nil)
	require.True(t, x.b.Live())
	bid, ask = s31ctTop(t, x.b)
	assert.Equal(t, "100.6x5", bid)
	assert.Equal(t, "100.8x3", ask)
	assert.Zero(t, x.gaps(), "no gap on the documented sequence: %v", x.sink.gaps)
	assert.Equal(t, 1, rest.fetches(), "one snapshot fetched")
	assert.Contains(t, rest.asked[0], "instId=BTC-USDT")
}

// A diff lost on a live OKXFetch book: a gap marker, nothing served, a
// new snapshot fetched from REST and the book live again on it — with
// none of the old book's levels surviving, since the venue's new
// snapshot no longer has them.
func TestS31ctOKXRestGapRefetchesAndServesOnlyTheNewBook(t *testing.T) {
	rest := newS31ctOKXRest(t, s31ctOKXSnap(10,
		[][2]string{{"100.0", "1"}, {"99.0", "1"}},
		[][2]string{{"101.0", "1"}, {"102.0", "1"}}))
	x := newS31ctOKXFetchBook(t, rest)
	x.apply(schema.EventBookUpdate, 10, 12, [][2]string{{"100.2", "12"}}, nil)
	require.True(t, x.b.Live(), "stats %+v", x.b.Stats())
	bid, _ := s31ctTop(t, x.b)
	require.Equal(t, "100.2x12", bid)

	// Lost: 12→14. The venue's book meanwhile moved: bids 100.2 and 100.0
	// left, the REST snapshot at 20 holds 98.0 / 98.5.
	rest.queue(s31ctOKXSnap(20, [][2]string{{"98.0", "7"}}, [][2]string{{"98.5", "7"}}))
	x.apply(schema.EventBookUpdate, 14, 16, nil, nil)
	assert.Equal(t, 1, x.gaps(), "the gap announced once: %v", x.sink.gaps)
	x.apply(schema.EventBookUpdate, 16, 20, nil, nil)
	x.apply(schema.EventBookUpdate, 20, 22, nil, [][2]string{{"98.4", "22"}})
	require.True(t, x.b.Live(), "live again on the new snapshot; stats %+v", x.b.Stats())
	bid, ask := s31ctTop(t, x.b)
	assert.Equal(t, "98.0x7", bid, "only the new snapshot's bids: nothing stale survives")
	assert.Equal(t, "98.4x22", ask)
	dst, err := x.pools.Events.Get(context.Background())
	require.NoError(t, err)
	defer x.pools.Events.Put(dst)
	require.True(t, x.b.Top(10, dst))
	for _, l := range dst.Book.Bids {
		assert.NotEqual(t, "100.0", l.Price.String(), "a level of the old book survived the resync")
		assert.NotEqual(t, "100.2", l.Price.String(), "a level of the old book survived the resync")
	}
	assert.Equal(t, 1, x.gaps(), "one marker per breakage: %v", x.sink.gaps)
	assert.GreaterOrEqual(t, rest.fetches(), 2)
}

// A REST snapshot older than the first diff the book holds (its seqId 3
// below the diff's prevSeqId 5: what lies between is in neither) cannot
// be joined: the book must not go live on it, and fetches again.
func TestS31ctOKXRestSnapshotOlderThanTheStreamIsFetchedAgain(t *testing.T) {
	rest := newS31ctOKXRest(t,
		s31ctOKXSnap(3, [][2]string{{"90.0", "3"}}, [][2]string{{"91.0", "3"}}),
		s31ctOKXSnap(8, [][2]string{{"100.0", "8"}}, [][2]string{{"101.0", "8"}}))
	x := newS31ctOKXFetchBook(t, rest)
	x.apply(schema.EventBookUpdate, 5, 8, [][2]string{{"90.0", "0"}}, nil)
	x.apply(schema.EventBookUpdate, 8, 9, nil, [][2]string{{"100.9", "9"}})
	require.True(t, x.b.Live(), "stats %+v", x.b.Stats())
	bid, ask := s31ctTop(t, x.b)
	assert.Equal(t, "100.0x8", bid, "the second snapshot, never the first")
	assert.Equal(t, "100.9x9", ask)
	assert.Equal(t, 2, rest.fetches(), "the old snapshot fetched again")
}

// OKX refuses a snapshot as its REST API refuses anything: HTTP 429 with
// {"code":"50011",…} past the rate limit, or HTTP 200 with a non-zero
// code and no data ("REST API → Error Code": 51001 "Instrument ID does
// not exist"). Neither is an empty book: the book stays not live, serves
// nothing, counts the failure, and fetches again after RetryInterval (on
// its Clock), going live on the first good snapshot.
func TestS31ctOKXRestRefusedSnapshotIsNoEmptyBook(t *testing.T) {
	for name, refusal := range map[string]struct {
		status int
		body   string
	}{
		"429 50011": {http.StatusTooManyRequests, `{"code":"50011","msg":"Rate limit reached. Please refer to API documentation and throttle requests accordingly.","data":[]}`},
		"200 51001": {http.StatusOK, `{"code":"51001","msg":"Instrument ID does not exist","data":[]}`},
		"200 empty": {http.StatusOK, `{"code":"0","msg":"","data":[]}`},
	} {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			fetches := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				fetches++
				if fetches <= 3 {
					w.WriteHeader(refusal.status)
					_, _ = w.Write([]byte(refusal.body))
					return
				}
				_, _ = w.Write([]byte(s31ctOKXSnap(10, [][2]string{{"100.0", "1"}}, [][2]string{{"101.0", "1"}})))
			}))
			defer srv.Close()
			clk := newS27ctClock()
			x := &s30ctOKXBook{t: t, pools: schema.NewPools(nil)}
			x.sink = &s29ctBookSink{events: x.pools.Events}
			b, err := book.NewBook(book.OKXFetch, "BTC-USDT", &book.Options{Sink: x.sink, Events: x.pools.Events,
				Fetcher: &book.OKXREST{BaseURL: srv.URL}, Clock: clk})
			require.NoError(t, err)
			defer b.Close()
			x.b = b
			apply := func(prev, seq uint64, bids [][2]string) { s31ctOKXDiff(t, x.pools, b, prev, seq, bids, nil) }
			apply(10, 11, [][2]string{{"100.1", "11"}})
			assert.False(t, b.Live(), "a refused snapshot makes no live book")
			_, ok := b.BBO()
			assert.False(t, ok, "and serves nothing")
			assert.Positive(t, b.Stats().FetchErrors, "the refusal counted: %+v", b.Stats())
			for seq := uint64(12); seq < 40 && !b.Live(); seq++ {
				clk.Advance(2 * time.Second) // RetryInterval defaults to 1 s
				apply(seq-1, seq, nil)
			}
			require.True(t, b.Live(), "live once OKX answers; stats %+v", b.Stats())
			bid, ask := s31ctTop(t, b)
			assert.Equal(t, "100.1x11", bid)
			assert.Equal(t, "101.0x1", ask)
		})
	}
}

// OKX "Order book channel": a sequence reset after maintenance (seqId
// below prevSeqId) is continuous — also when it comes while an OKXFetch
// book waits for its REST snapshot. Two cases, by where the venue's
// snapshot falls: before the reset (seqId 18: the reset 18→3 continues
// it), and after it (seqId 4, fetched while the stream still delivers
// the diffs from before the reset: the diff 3→5 joins it, and the diffs
// before the reset are in its past). Until the book can join it must
// serve nothing; it must not stay dark once the reset has come: with
// the clock moved past its RetryInterval and the stream going on, it
// goes live on the venue's book.
func TestS31ctOKXRestJoinAcrossASequenceReset(t *testing.T) {
	for name, snap := range map[string]string{
		"snapshot before the reset": s31ctOKXSnap(18, [][2]string{{"100.0", "18"}}, [][2]string{{"101.0", "18"}}),
		"snapshot after the reset":  s31ctOKXSnap(4, [][2]string{{"100.0", "18"}}, [][2]string{{"100.8", "3"}, {"101.0", "18"}}),
	} {
		t.Run(name, func(t *testing.T) {
			rest := newS31ctOKXRest(t, snap)
			clk := newS27ctClock()
			x := &s30ctOKXBook{t: t, pools: schema.NewPools(nil)}
			x.sink = &s29ctBookSink{events: x.pools.Events}
			b, err := book.NewBook(book.OKXFetch, "BTC-USDT", &book.Options{Sink: x.sink, Events: x.pools.Events,
				Fetcher: &book.OKXREST{BaseURL: rest.srv.URL}, Clock: clk})
			require.NoError(t, err)
			defer b.Close()
			reset := false
			venueBids := map[string]string{"100.0": "18"}
			venueAsks := map[string]string{"101.0": "18"}
			// want is the venue's top after the diff: a live book serves it.
			apply := func(prev, seq uint64, bids, asks [][2]string, want string) {
				s31ctOKXDiff(t, x.pools, b, prev, seq, bids, asks)
				// From the reset on, the venue's REST snapshot is its book
				// at the stream's newest message.
				if seq < prev {
					reset = true
				}
				if reset {
					for _, l := range bids {
						venueBids[l[0]] = l[1]
					}
					for _, l := range asks {
						venueAsks[l[0]] = l[1]
					}
					var vb, va [][2]string
					for px, q := range venueBids {
						vb = append(vb, [2]string{px, q})
					}
					for px, q := range venueAsks {
						va = append(va, [2]string{px, q})
					}
					rest.queue(s31ctOKXSnap(seq, vb, va))
				}
				if b.Live() {
					bid, ask := s31ctTop(t, b)
					require.Equal(t, want, bid+"/"+ask, "a live book is the venue's book, after %d→%d", prev, seq)
				}
			}
			apply(15, 18, [][2]string{{"100.0", "18"}}, [][2]string{{"101.0", "18"}}, "100.0x18/101.0x18")
			apply(18, 3, nil, [][2]string{{"100.8", "3"}}, "100.0x18/100.8x3")
			apply(3, 5, [][2]string{{"100.5", "5"}}, nil, "100.5x5/100.8x3")
			prev := uint64(5)
			for i := 0; i < 10 && !b.Live(); i++ {
				clk.Advance(2 * time.Second) // past RetryInterval (1 s)
				apply(prev, prev+2, [][2]string{{"100.6", fmt.Sprint(prev + 2)}}, nil, fmt.Sprintf("100.6x%d/100.8x3", prev+2))
				prev += 2
			}
			require.True(t, b.Live(), "live on the venue's book once the reset came; stats %+v; markers %v; fetches %d",
				b.Stats(), x.sink.gaps, rest.fetches())
			t.Logf("fetches %d, markers %v", rest.fetches(), x.sink.gaps)
		})
	}
}

// s31ctOKXDiff applies one OKX books diff (prevSeqId prev, seqId seq) to
// b. Apply's error, a failed fetch, is not the test's: "the book has then
// already done what it could and tries again on a later diff".
func s31ctOKXDiff(t *testing.T, pools *schema.Pools, b *book.Book, prev, seq uint64, bids, asks [][2]string) {
	t.Helper()
	ev, err := pools.Events.Get(context.Background())
	require.NoError(t, err)
	defer pools.Events.Put(ev)
	ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueOKX, "BTC-USDT", schema.EventBookUpdate, seq
	ev.Book.PrevSeq, ev.Book.LastSeq, ev.Book.Depth = prev, seq, 400
	for _, l := range bids {
		ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.MustParseDecimal(l[0]), Qty: schema.MustParseDecimal(l[1])})
	}
	for _, l := range asks {
		ev.Book.Asks = append(ev.Book.Asks, schema.Level{Price: schema.MustParseDecimal(l[0]), Qty: schema.MustParseDecimal(l[1])})
	}
	_ = b.Apply(context.Background(), ev)
}
