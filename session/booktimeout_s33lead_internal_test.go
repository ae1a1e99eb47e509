package session

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
)

// Config.RESTTimeout bounds the books' REST snapshots too (Binance depth,
// OKX books), as it bounds the session's other REST calls: a host that
// raises it for a slow link gets its snapshots within it. Before, the
// fetchers kept the book package's own 10 s (s33rvsess's report).
func TestS33leadBookFetchesWithinRESTTimeout(t *testing.T) {
	s := &Session{syms: normalize.NewSymbols(normalize.BinanceSymbolRules())}
	s.cfg.Endpoints.REST = "http://127.0.0.1:1"
	s.cfg.RESTTimeout = 45 * time.Second
	assert.Equal(t, 45*time.Second, s.binanceFetcher().Timeout, "Binance depth")
	_, f := s.okxBooks(book.OKXFetch)
	okx, ok := f.(*book.OKXREST)
	require.True(t, ok, "%T", f)
	assert.Equal(t, 45*time.Second, okx.Timeout, "OKX books")
}
