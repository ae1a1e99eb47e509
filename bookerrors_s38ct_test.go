package meltica_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize/book"
)

// TestS38ctNewBookRefusals reaches NewBook's documented sentinels with
// errors.Is, for every rule they concern, and no book is made: "ErrNoSymbol
// is returned by NewBook without a symbol"; "ErrNoFetcher is returned by
// NewBook for a ResyncFetch rule without a Fetcher"; "ErrMaxLevels is
// returned (wrapped) by NewBook for an Options.MaxLevels below the rule's
// ChecksumDepth (OKX 25, Kraken 10)". At the ChecksumDepth itself it is
// taken ("at least the rule's ChecksumDepth").
func TestS38ctNewBookRefusals(t *testing.T) {
	fetcher := &book.BinanceREST{BaseURL: "http://127.0.0.1:1"} // never asked: no book goes live here
	rules := map[string]book.Rule{"Binance": book.Binance, "OKX": book.OKX, "OKXFetch": book.OKXFetch,
		"KrakenV1": book.KrakenV1, "KrakenV2": book.KrakenV2, "Bybit": book.Bybit, "Coinbase": book.Coinbase}
	for name, r := range rules {
		b, err := book.NewBook(r, "", &book.Options{Fetcher: fetcher})
		assert.ErrorIs(t, err, book.ErrNoSymbol, name)
		assert.Nil(t, b, name)
		if r.Resync == book.ResyncFetch {
			b, err = book.NewBook(r, "BTC-USDT", nil)
			assert.ErrorIs(t, err, book.ErrNoFetcher, name)
			assert.Nil(t, b, name)
		}
		if r.ChecksumDepth > 0 {
			b, err = book.NewBook(r, "BTC-USDT", &book.Options{Fetcher: fetcher, MaxLevels: r.ChecksumDepth - 1})
			assert.ErrorIs(t, err, book.ErrMaxLevels, "%s: MaxLevels %d", name, r.ChecksumDepth-1)
			assert.Nil(t, b, name)
			b, err = book.NewBook(r, "BTC-USDT", &book.Options{Fetcher: fetcher, MaxLevels: r.ChecksumDepth})
			require.NoError(t, err, "%s: MaxLevels at the checksum's depth", name)
			require.NotNil(t, b)
			b.Close()
		}
	}
	assert.Equal(t, 25, book.OKX.ChecksumDepth, "OKX's checksum covers 25 levels")
	assert.Equal(t, 10, book.KrakenV2.ChecksumDepth, "Kraken's checksum covers 10 levels")
}
