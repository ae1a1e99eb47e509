package book

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// OKX "Order book channel": books5 pushes its 5 levels whole "every time
// there is a change"; it is no incremental channel and not part of the
// delisting of the initial snapshot. An empty books5 push is the view
// emptied (every order of a thin instrument pulled), not OKX's
// placeholder. Before, every OKX rule ignored it as the placeholder
// (Stats.Stale) and kept serving the previous 5 levels as live.
func TestS31rvOKXEmptyBooks5IsTheView(t *testing.T) {
	for name, base := range map[string]Rule{"OKXFetch": OKXFetch, "OKX": OKX} {
		rule, err := base.WithDepth(5)
		require.NoError(t, err)
		t.Run(name, func(t *testing.T) {
			v := &okxRESTVenue{answers: []string{`{"code":"50001","msg":"unavailable","data":[]}`}}
			srv := httptest.NewServer(v)
			t.Cleanup(srv.Close)
			bk, sink, _ := newRecBook(t, rule, "BTC-USDT", &Options{Fetcher: &OKXREST{BaseURL: srv.URL}})
			applyLive(t, bk, okxBooks5(100, `["100","1","0","1"]`, `["101","1","0","1"]`))
			applyLive(t, bk, okxBooks5(101, ``, ``))
			top, _ := bk.BBO()
			require.True(t, top.BidPrice.IsZero() && top.AskPrice.IsZero(), "the book still serves the levels the venue's view no longer has: %+v", top)
			require.Zero(t, bk.Stats().Stale)
			bbo := sink.ofType(schema.EventBBO)
			require.Len(t, bbo, 2)
			require.True(t, bbo[1].BBO.BidPrice.IsZero() && bbo[1].BBO.AskPrice.IsZero(), "the quote not withdrawn")
			require.Empty(t, v.queries)
		})
	}
}
