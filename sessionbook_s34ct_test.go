package meltica_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// s34ctVenueDepth is the venue's book at its lastUpdateId, from its REST
// depth endpoint (Binance "Order book": {"lastUpdateId", "bids", "asks"}),
// the best n levels a side rendered "bids | asks".
func s34ctVenueDepth(t *testing.T, restURL string, n int) (uint64, string) {
	t.Helper()
	resp, err := http.Get(restURL + "/api/v3/depth?symbol=BTCUSDT&limit=1000")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	m := s28ctJSON(t, body)
	id, err := s28ctNum(t, m, "lastUpdateId").Int64()
	require.NoError(t, err)
	side := func(key string) string {
		levels, ok := m[key].([]any)
		require.True(t, ok, "%s: %s", key, body)
		out := ""
		for i, l := range levels {
			if i == n {
				break
			}
			pq := l.([]any)
			if out != "" {
				out += " "
			}
			out += schema.MustParseDecimal(pq[0].(string)).String() + "x" + schema.MustParseDecimal(pq[1].(string)).String()
		}
		return out
	}
	return uint64(id), side("bids") + " | " + side("asks")
}

// The session's book after the venue broke its diff stream (venuesim
// FaultDepthGap: a skipped id) and it resynchronised: held still
// (venuesim Pause), the host's book at the venue's lastUpdateId is the
// venue's, level for level, over the best 20 a side — never a book that
// survived the gap with a level the venue no longer has.
func TestS34ctSessionBookEqualsTheVenuesAfterAGap(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 500, PingInterval: -1})
	defer v.Close()
	ctx := context.Background()
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"depth@100ms"},
	})
	require.NoError(t, err)
	defer func() { assert.NoError(t, s.Close(context.Background())) }()
	b := s.Book("BTC-USDT")
	require.NotNil(t, b)
	require.Eventually(t, b.Live, time.Minute, time.Millisecond, "live")
	before := b.Stats()
	v.Inject(venuesim.FaultDepthGap)
	require.Eventually(t, func() bool {
		st := b.Stats()
		return b.Live() && st.Fetches > before.Fetches
	}, time.Minute, time.Millisecond, "resynchronised after the gap (a new snapshot fetched)")
	v.Pause(true)
	id, venue := s34ctVenueDepth(t, v.RESTURL(), 20)
	require.Eventually(t, func() bool { return b.LastSeq() == id }, time.Minute, time.Millisecond, "the book reached the venue's %d", id)
	top := func() string {
		dst, err := s.Pools().Events.Get(ctx)
		require.NoError(t, err)
		defer s.Pools().Events.Put(dst)
		require.True(t, b.Top(20, dst), "live")
		out := ""
		for i, l := range dst.Book.Bids {
			if i > 0 {
				out += " "
			}
			out += l.Price.String() + "x" + l.Qty.String()
		}
		out += " |"
		for _, l := range dst.Book.Asks {
			out += " " + l.Price.String() + "x" + l.Qty.String()
		}
		return out
	}
	assert.Equal(t, venue, top())
}
