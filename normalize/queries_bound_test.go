package normalize_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
)

// TestQueryAnswersBounded: a page of a REST query is at most 100 entries
// (OKX v5 "Get order List", "Get transaction details": limit ≤ 100; Bybit
// v5 "Get Open & Closed Orders" ≤ 50, "Get Trade History" ≤ 100). An
// answer listing more is refused before its entries are decoded: 64 KiB
// of empty objects ("{}," is 3 bytes; the decoders' order struct is ~2 KB)
// made 22k structs, ~86 MB with the slice's growth, before the first
// missing field refused it (a 4 MiB answer, the session's bound, ~5 GB).
func TestQueryAnswersBounded(t *testing.T) {
	okx := normalize.NewSymbols(normalize.OKXSymbolRules())
	bybit := normalize.NewSymbols(normalize.BybitSymbolRules())
	coinbase := normalize.NewSymbols(normalize.CoinbaseSymbolRules())
	many := strings.Repeat("{},", 64<<10/3) + "{}"
	for _, c := range []struct {
		name  string
		body  string
		parse func([]byte) error
	}{
		{"okx orders", `{"code":"0","msg":"","data":[` + many + `]}`, func(b []byte) error {
			_, err := normalize.ParseOKXOrders(b, okx, nil)
			return err
		}},
		{"okx fills", `{"code":"0","msg":"","data":[` + many + `]}`, func(b []byte) error {
			_, err := normalize.ParseOKXFills(b, okx, nil)
			return err
		}},
		{"bybit orders", `{"retCode":0,"retMsg":"OK","result":{"list":[` + many + `],"nextPageCursor":""}}`, func(b []byte) error {
			_, _, err := normalize.ParseBybitOrders(b, bybit, nil)
			return err
		}},
		{"bybit executions", `{"retCode":0,"retMsg":"OK","result":{"list":[` + many + `],"nextPageCursor":""}}`, func(b []byte) error {
			_, _, err := normalize.ParseBybitExecutions(b, bybit, nil)
			return err
		}},
		{"coinbase orders", `{"orders":[` + many + `],"has_next":false}`, func(b []byte) error {
			_, _, err := normalize.ParseCoinbaseOrders(b, coinbase, nil)
			return err
		}},
		{"coinbase fills", `{"fills":[` + many + `],"cursor":""}`, func(b []byte) error {
			_, _, err := normalize.ParseCoinbaseFills(b, coinbase, nil)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			require.Error(t, c.parse(body)) // warm: first-use compile
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := c.parse(body)
			runtime.ReadMemStats(&after)
			checkQueryAnswer(t, err)
			require.Error(t, err)
			assert.ErrorIs(t, err, normalize.ErrMalformed)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(2<<20), "bytes allocated for a %d-byte answer", len(body))
		})
	}
}

// TestQueryAnswersPageLimit: a page of 100 entries is read, one of 101 is
// refused.
func TestQueryAnswersPageLimit(t *testing.T) {
	okx := normalize.NewSymbols(normalize.OKXSymbolRules())
	fill := `{"instId":"BTC-USDT","tradeId":"1","ordId":"2","billId":"3","fillPx":"1","fillSz":"1","fee":"0","feeCcy":"BTC","ts":"1"}`
	list := func(n int) []byte {
		return []byte(`{"code":"0","msg":"","data":[` + strings.TrimSuffix(strings.Repeat(fill+",", n), ",") + `]}`)
	}
	fills, err := normalize.ParseOKXFills(list(normalize.MaxQueryPage), okx, nil)
	require.NoError(t, err)
	assert.Len(t, fills, normalize.MaxQueryPage)
	_, err = normalize.ParseOKXFills(list(normalize.MaxQueryPage+1), okx, nil)
	checkQueryAnswer(t, err)
	require.ErrorIs(t, err, normalize.ErrMalformed)
	assert.Contains(t, err.Error(), "more entries than a page holds")
}
