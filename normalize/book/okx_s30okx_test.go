package book

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// okxRESTVenue serves GET /api/v5/market/books answers from a list, one a
// request (the last again once the list is spent), and records the
// queries.
type okxRESTVenue struct {
	mu      sync.Mutex
	answers []string
	queries []string
}

func (v *okxRESTVenue) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.queries = append(v.queries, r.URL.Path+"?"+r.URL.RawQuery)
	a := v.answers[0]
	if len(v.answers) > 1 {
		v.answers = v.answers[1:]
	}
	_, _ = w.Write([]byte(a))
}

// okxBooksAnswer is an answer of GET /api/v5/market/books (OKX API v5
// "Get order book" example, with seqId).
func okxBooksJSON(seq uint64, bids, asks string) string {
	return fmt.Sprintf(`{"code":"0","msg":"","data":[{"asks":[%s],"bids":[%s],"ts":"1700000000000","seqId":%d}]}`, asks, bids, seq)
}

func newOKXFetchBook(t *testing.T, answers ...string) (*Book, *recSink, *okxRESTVenue) {
	t.Helper()
	v := &okxRESTVenue{answers: answers}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	bk, sink, _ := newRecBook(t, OKXFetch, "BTC-USDT", &Options{Fetcher: &OKXREST{BaseURL: srv.URL}})
	return bk, sink, v
}

func okxUpdate(prev int64, seq uint64, bids, asks string) []byte {
	return okxRaw("books", "update", prev, seq, bids, asks, `,"checksum":0`)
}

// OKX "How to manage a local order book correctly": buffered events with
// seqId ≤ the REST snapshot's seqId are discarded; the first applied has
// prevSeqId ≤ snapshot seqId < seqId. OKX's seqIds are not consecutive,
// so the snapshot's seqId falls inside a push's (prevSeqId, seqId] as a
// rule: read by the chain rule alone (prevSeqId = last seqId) that push
// was a gap, and the book never went live.
func TestS30OKXFetchJoinsInsideAPush(t *testing.T) {
	ctx := context.Background()
	bk, sink, v := newOKXFetchBook(t, okxBooksJSON(105, `["100","5","0","1"]`, `["101","1","0","1"]`))
	require.NoError(t, bk.Apply(ctx, okxEvent(t, okxUpdate(100, 103, `["100","4","0","1"]`, ``))))
	require.True(t, bk.Live(), "the snapshot covers the buffered push: live on the snapshot")
	require.Equal(t, []string{"/api/v5/market/books?instId=BTC-USDT&sz=400"}, v.queries)
	requireTop(t, bk, [][2]string{{"100", "5"}}, [][2]string{{"101", "1"}})
	// 103 → 108 holds the changes after 105: it joins the snapshot.
	applyLive(t, bk, okxUpdate(103, 108, `["99","2","0","1"]`, ``))
	applyLive(t, bk, okxUpdate(108, 112, ``, `["102","3","0","1"]`))
	applyLive(t, bk, okxUpdate(112, 112, ``, ``)) // keep-alive
	requireTop(t, bk, [][2]string{{"100", "5"}, {"99", "2"}}, [][2]string{{"101", "1"}, {"102", "3"}})
	require.Equal(t, uint64(112), bk.LastSeq())
	require.Zero(t, bk.Stats().Gaps)
	require.Empty(t, sink.ofType(schema.EventGap))
	// The chain rule holds after the join: a lost push is a gap.
	// (It fetches again; the venue still answers 105: older than 115.)
	require.ErrorIs(t, bk.Apply(ctx, okxEvent(t, okxUpdate(115, 118, ``, ``))), ErrStale)
	require.False(t, bk.Live())
	requireMarker(t, sink, 1, ReasonGap)
}

// The buffered pushes joined inside the fetch: the one straddling the
// snapshot's seqId applies, the older ones are dropped as covered.
func TestS30OKXFetchReplaysBuffer(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	arrived := make(chan struct{})
	v := &okxRESTVenue{answers: []string{okxBooksJSON(105, `["100","5","0","1"]`, `["101","1","0","1"]`)}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		v.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	bk, _, _ := newRecBook(t, OKXFetch, "BTC-USDT", &Options{Fetcher: &OKXREST{BaseURL: srv.URL}})
	done := make(chan error, 1)
	first := okxEvent(t, okxUpdate(100, 103, `["100","4","0","1"]`, ``))
	go func() { done <- bk.Apply(ctx, first) }()
	<-arrived
	// Meanwhile the stream goes on: buffered behind the fetch.
	require.NoError(t, bk.Apply(ctx, okxEvent(t, okxUpdate(103, 108, `["99","2","0","1"]`, ``))))
	require.NoError(t, bk.Apply(ctx, okxEvent(t, okxUpdate(108, 112, ``, `["102","3","0","1"]`))))
	close(release)
	require.NoError(t, <-done)
	require.True(t, bk.Live())
	requireTop(t, bk, [][2]string{{"100", "5"}, {"99", "2"}}, [][2]string{{"101", "1"}, {"102", "3"}})
	require.Equal(t, uint64(112), bk.LastSeq())
	require.Equal(t, uint64(1), bk.Stats().Stale, "103 is covered by the snapshot")
}

// "If the snapshot's seqId < the prevSeqId of the first event, fetch
// again": a snapshot older than the buffered pushes is not loaded live;
// the next one fetched is.
func TestS30OKXFetchSnapshotTooOld(t *testing.T) {
	ctx := context.Background()
	bk, _, v := newOKXFetchBook(t,
		okxBooksJSON(95, `["100","9","0","1"]`, `["101","9","0","1"]`),
		okxBooksJSON(110, `["100","5","0","1"]`, `["101","1","0","1"]`))
	require.NoError(t, bk.Apply(ctx, okxEvent(t, okxUpdate(100, 103, `["100","4","0","1"]`, ``))))
	require.True(t, bk.Live())
	require.Len(t, v.queries, 2)
	require.Equal(t, uint64(2), bk.Stats().Fetches)
	requireTop(t, bk, [][2]string{{"100", "5"}}, [][2]string{{"101", "1"}})
	applyLive(t, bk, okxUpdate(103, 114, ``, `["101","2","0","1"]`))
	requireTop(t, bk, [][2]string{{"100", "5"}}, [][2]string{{"101", "2"}})
}

// The docs say to ignore the first "snapshot" event once the snapshot is
// delisted: an OKXFetch book loads no empty one from the stream (s31okx:
// one with levels is the whole book of an OKX that still sends it, and
// is taken), and goes live on the fetched one.
func TestS30OKXFetchIgnoresStreamSnapshot(t *testing.T) {
	ctx := context.Background()
	bk, _, v := newOKXFetchBook(t, okxBooksJSON(105, `["100","5","0","1"]`, `["101","1","0","1"]`))
	require.NoError(t, bk.Apply(ctx, okxEvent(t, okxRaw("books", "snapshot", -1, 100, ``, ``, `,"checksum":0`))))
	require.False(t, bk.Live())
	require.Equal(t, uint64(1), bk.Stats().Stale)
	require.Empty(t, v.queries)
	require.NoError(t, bk.Apply(ctx, okxEvent(t, okxUpdate(100, 106, `["99","1","0","1"]`, ``))))
	require.True(t, bk.Live())
	requireTop(t, bk, [][2]string{{"100", "5"}, {"99", "1"}}, [][2]string{{"101", "1"}})
}

// A view's snapshot of its whole depth holds the view: levels that come
// into it from below (OKX sends them) are kept, not dropped as beyond the
// snapshot's range.
func TestS30OKXFetchKeepsLevelsEnteringView(t *testing.T) {
	ctx := context.Background()
	rule, err := OKXFetch.WithDepth(50)
	require.NoError(t, err)
	var bids, asks []string
	for i := range 50 {
		bids = append(bids, fmt.Sprintf(`["%d","1","0","1"]`, 100-i))
		asks = append(asks, fmt.Sprintf(`["%d","1","0","1"]`, 101+i))
	}
	v := &okxRESTVenue{answers: []string{okxBooksJSON(105, strings.Join(bids, ","), strings.Join(asks, ","))}}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	bk, _, _ := newRecBook(t, rule, "BTC-USDT", &Options{Fetcher: &OKXREST{BaseURL: srv.URL, Size: 50}})
	require.NoError(t, bk.Apply(ctx, okxEvent(t, okxRaw("books50-l2-tbt", "update", 100, 103, ``, ``, ""))))
	require.True(t, bk.Live())
	// 100 goes; 50 comes into the 50-level view.
	applyLive(t, bk, okxRaw("books50-l2-tbt", "update", 105, 107, `["100","0","0","0"],["50","2","0","1"]`, ``, ""))
	var top schema.CanonicalEvent
	require.True(t, bk.Top(50, &top))
	require.Len(t, top.Book.Bids, 50)
	require.Equal(t, "50 2", top.Book.Bids[49].Price.String()+" "+top.Book.Bids[49].Qty.String())
}

func TestS30OKXRESTDecode(t *testing.T) {
	var ev schema.CanonicalEvent
	require.NoError(t, decodeOKXBooks([]byte(`{"code":"0","msg":"","data":[{"asks":[["41006.8","0.60038921","0","1"]],"bids":[["41006.3","0.30178218","0","2"]],"ts":"1629966436396","seqId":"3340"}]}`), &ev))
	require.Equal(t, uint64(3340), ev.Book.LastSeq)
	require.Equal(t, int64(1629966436396)*1e6, ev.ExchangeTS)
	require.Equal(t, "41006.3", ev.Book.Bids[0].Price.String())
	require.Equal(t, "0.60038921", ev.Book.Asks[0].Qty.String())

	err := decodeOKXBooks([]byte(`{"code":"51001","msg":"Instrument ID does not exist","data":[]}`), &ev)
	var fe *FetchError
	require.ErrorAs(t, err, &fe)
	require.Contains(t, fe.Body, "51001")
	for _, bad := range []string{
		`{"code":"0","data":[{"asks":[],"bids":[],"ts":"1629966436396"}]}`, // no seqId
		`{"code":"0","data":[{"asks":[],"bids":[],"seqId":5}]}`,            // no ts
		`{"code":"0","data":[]}`, // no data
		`{"code":"0","data":[{"asks":[["x","1"]],"bids":[],"ts":"1","seqId":5}]}`, // bad price
		`{"code":"0","data":[{"asks":[["1","0"]],"bids":[],"ts":"1","seqId":5}]}`, // zero size
		`{"code":"0","data":[{"asks":[["1"]],"bids":[],"ts":"1","seqId":5}]}`,     // short level
		`{"data":[{"asks":[],"bids":[],"ts":"1","seqId":5}]}`,                     // no code
		`{"code":"0","data":[{"asks":[],"bids":[],"ts":"1","seqId":-5}]}`,         // negative seqId
		`[`,
	} {
		err := decodeOKXBooks([]byte(bad), &ev)
		require.ErrorIs(t, err, errOKXSnapshot, bad)
	}
	require.True(t, errors.Is(decodeOKXBooks([]byte(`{}`), &ev), errOKXSnapshot))
}

// FuzzS30OKXBooksDecode: nothing an OKX books answer holds may panic the
// decoder; a decoded snapshot has a seqId, a ts and positive levels.
func FuzzS30OKXBooksDecode(f *testing.F) {
	f.Add([]byte(okxBooksJSON(105, `["100","5","0","1"]`, `["101","1","0","1"]`)))
	f.Add([]byte(`{"code":"0","msg":"","data":[{"asks":[["41006.8","0.60038921","0","1"]],"bids":[["41006.3","0.30178218","0","2"]],"ts":"1629966436396","seqId":"3340"}]}`))
	f.Add([]byte(`{"code":"51001","msg":"Instrument ID does not exist","data":[]}`))
	f.Add([]byte(`{"code":0,"data":[{"asks":[],"bids":[],"ts":1,"seqId":1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev schema.CanonicalEvent
		if decodeOKXBooks(b, &ev) != nil {
			return
		}
		require.NotZero(t, ev.Book.LastSeq)
		require.Positive(t, ev.ExchangeTS)
		for _, l := range append(ev.Book.Bids, ev.Book.Asks...) {
			require.Positive(t, l.Price.Sign())
			require.Positive(t, l.Qty.Sign())
		}
	})
}

// OKXREST asks for the instId of the canonical symbol (a perpetual's is
// -SWAP) and sz at most 400; a venue error (code other than "0") is a
// *FetchError with the venue's answer.
func TestS30OKXRESTQuery(t *testing.T) {
	v := &okxRESTVenue{answers: []string{`{"code":"51001","msg":"Instrument ID does not exist","data":[]}`}}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	var ev schema.CanonicalEvent
	err := (&OKXREST{BaseURL: srv.URL, Size: 1000}).Fetch(context.Background(), "BTC-USDT-PERP", &ev)
	var fe *FetchError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "BTC-USDT-PERP", fe.Symbol)
	require.Contains(t, fe.Error(), "51001")
	require.Equal(t, []string{"/api/v5/market/books?instId=BTC-USDT-SWAP&sz=400"}, v.queries)
}

// 0 allocations per diff on an OKXFetch book, the first diff after the
// fetched snapshot (joined inside its ids) and the chained ones after.
func TestS30OKXFetchZeroAllocsPerDiff(t *testing.T) {
	events := schema.NewPools(nil).Events
	var seq uint64 = 1000
	fetch := FetcherFunc(func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
		dst.Book.Bids = append(dst.Book.Bids[:0], schema.Level{Price: schema.NewDecimal(100, 0), Qty: schema.NewDecimal(1, 0)})
		dst.Book.Asks = append(dst.Book.Asks[:0], schema.Level{Price: schema.NewDecimal(101, 0), Qty: schema.NewDecimal(1, 0)})
		dst.Book.LastSeq = seq + 2 // inside the next diff's (prevSeqId, seqId]
		return nil
	})
	b, err := NewBook(OKXFetch, "BTC-USDT", &Options{Sink: &sinkPut{events: events}, Events: events, Fetcher: fetch})
	require.NoError(t, err)
	ctx := context.Background()
	d := &schema.CanonicalEvent{Venue: schema.VenueOKX, Symbol: "BTC-USDT", Type: schema.EventBookUpdate}
	d.Book.Bids = make([]schema.Level, 1)
	k := int64(0)
	next := func() {
		k++
		d.Book.PrevSeq, d.Book.LastSeq = seq, seq+5
		seq += 5
		d.Book.Bids[0] = schema.Level{Price: schema.NewDecimal(99, 0), Qty: schema.NewDecimal(k, 0)}
		if err := b.Apply(ctx, d); err != nil {
			panic(err)
		}
	}
	next() // 1000 → 1005 buffered; the snapshot fetched (1007) covers it
	require.True(t, b.Live())
	next() // 1005 → 1010 joins the snapshot inside its ids
	require.Equal(t, uint64(1010), b.LastSeq())
	require.Zero(t, testing.AllocsPerRun(200, next))
	require.True(t, b.Live())
	require.Zero(t, b.Stats().Gaps)
	require.Equal(t, seq, b.LastSeq())
}
