package venuesim_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
)

// s30okxRun subscribes our OKX parser and an OKXFetch book (its snapshot
// from the venue's GET /api/v5/market/books) to the venue's books channel,
// reads until the book applied updates diffs, pauses the market, and
// returns the book once it reached the venue's last seqId, with the
// venue's book at that seqId.
func s30okxRun(t *testing.T, v *venuesim.Venue, updates uint64) (*book.Book, *schema.CanonicalEvent) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // failure guard only
	defer cancel()
	c, _, err := websocket.Dial(ctx, v.OKXURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	rest := &book.OKXREST{BaseURL: v.RESTURL()}
	bk, err := book.NewBook(book.OKXFetch, "BTC-USDT", &book.Options{Fetcher: rest})
	require.NoError(t, err)
	events := schema.NewPools(nil).Events
	p := normalize.NewOKX(events, normalize.SinkFunc(func(ctx context.Context, ev *schema.CanonicalEvent) error {
		defer events.Put(ev)
		return bk.Apply(ctx, ev)
	}), nil)
	read := func() {
		t.Helper()
		_, msg, err := c.Read(ctx)
		require.NoError(t, err)
		require.NoError(t, p.HandleBytes(ctx, msg, time.Now().UnixNano()), "%s", msg)
	}
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}`)))
	for bk.Stats().Applied < updates {
		read()
		require.Zero(t, bk.Stats().Invalidations)
	}
	v.Pause(true)
	// The market holds still: one fetch is the venue's last book (a
	// fetch per frame read ran past OKX's 40 requests per 2 s under
	// -race, and was refused 50011).
	want := new(schema.CanonicalEvent)
	require.NoError(t, rest.Fetch(ctx, "BTC-USDT", want))
	for bk.LastSeq() != want.Book.LastSeq {
		require.Less(t, bk.LastSeq(), want.Book.LastSeq)
		read()
	}
	require.Zero(t, p.Stats().Errors)
	return bk, want
}

// s30okxSame requires the book's levels equal the venue's.
func s30okxSame(t *testing.T, bk *book.Book, want *schema.CanonicalEvent) {
	t.Helper()
	var got schema.CanonicalEvent
	require.True(t, bk.Top(400, &got))
	str := func(ls []schema.Level) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.Price.String()+" "+l.Qty.String())
		}
		return out
	}
	require.NotEmpty(t, want.Book.Bids)
	require.Equal(t, str(want.Book.Bids), str(got.Book.Bids))
	require.Equal(t, str(want.Book.Asks), str(got.Book.Asks))
}

// OKX in the delisting's transition (an empty stream snapshot first,
// checksum 0; today's OKX, with no stream snapshot at all, is
// TestS31simOKXFetchBookLiveOnToday): our parser and an OKXFetch book go
// live on the REST snapshot, chain every update by seqId, and end equal
// to the venue's book.
func TestS30okxPostDelistingBookGoesLive(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000, OKXBooks: venuesim.OKXBooksEmptySnapshot})
	defer v.Close()
	bk, want := s30okxRun(t, v, 50) // 50 pushes of 100 ms, each a batch of many changes (OKX "Order book channel")
	st := bk.Stats()
	assert.True(t, bk.Live())
	assert.EqualValues(t, 1, st.Fetches)
	assert.GreaterOrEqual(t, st.Stale, uint64(1), "the empty stream snapshot, ignored (and updates the REST snapshot covers)")
	assert.Zero(t, st.Checksums, "checksum 0 is no checksum")
	assert.Zero(t, st.Gaps)
	s30okxSame(t, bk, want)
}

// The OKX that still sends its snapshot and checksums: an OKXFetch book
// goes live on the stream's snapshot, which holds the whole book (no
// fetch: normalize/book takes a snapshot with levels under every OKX
// rule since s31okx), and every checksum verifies on it.
func TestS30okxWithSnapshotBookGoesLive(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000, OKXBooks: venuesim.OKXBooksSnapshot})
	defer v.Close()
	bk, want := s30okxRun(t, v, 50) // 50 pushes of 100 ms, each a batch of many changes (OKX "Order book channel")
	st := bk.Stats()
	assert.True(t, bk.Live())
	assert.Zero(t, st.Fetches, "live on the stream's snapshot")
	assert.GreaterOrEqual(t, st.Checksums, uint64(50))
	assert.Zero(t, st.ChecksumErrors)
	assert.Zero(t, st.Gaps)
	s30okxSame(t, bk, want)
}

// GET /api/v5/market/books: sz levels a side (default 1), the stream's
// seqId; an unknown instId is code 51001.
func TestS30okxRESTBooks(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1})
	defer v.Close()
	get := func(q string) map[string]any {
		t.Helper()
		m, err := httpGetJSON(v.RESTURL() + "/api/v5/market/books?" + q)
		require.NoError(t, err)
		return m
	}
	m := get("instId=BTC-USDT")
	require.Equal(t, "0", m["code"])
	d := m["data"].([]any)[0].(map[string]any)
	require.Len(t, d["bids"], 1)
	require.Len(t, d["asks"], 1)
	require.Positive(t, d["seqId"])
	d = get("instId=BTC-USDT&sz=10")["data"].([]any)[0].(map[string]any)
	require.Len(t, d["bids"], 10)
	require.Equal(t, "51001", get("instId=NOPE-USDT")["code"])
	resp, err := http.Get(v.RESTURL() + "/api/v5/market/books?instId=BTC-USDT&sz=2")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ev schema.CanonicalEvent
	require.NoError(t, (&book.OKXREST{BaseURL: v.RESTURL(), Size: 2}).Fetch(context.Background(), "BTC-USDT", &ev), "%s", body)
	require.Len(t, ev.Book.Bids, 2, fmt.Sprint(ev.Book))
}
