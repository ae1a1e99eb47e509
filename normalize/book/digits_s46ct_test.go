package book_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Contract 7 end to end on books: each venue's real snapshot (the shared
// samples: OKX, Bybit, Kraken v2 with their checksums, Coinbase Advanced
// Trade, Binance's REST snapshot over loopback) through its parser and
// Books, read back with Book.Top: every level's price and quantity is a
// token of the venue's message, digit for digit (trailing zeros, Kraken's
// bare numbers such as 66788.0 included), never a reformatted value.
func TestS46ctBookLevelsKeepTheVenuesDigits(t *testing.T) {
	const dir = "/work/shared/venues/"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no shared venue samples")
	}
	for _, c := range []struct {
		name, file string
		rule       book.Rule
		symbol     string
		parser     func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser
		bare       bool   // the venue writes numbers bare (Kraken v2)
		diff       string // Binance: the diff that fetches the snapshot
	}{
		{name: "okx", file: "okx_books_snapshot.json", rule: book.OKX, symbol: "BTC-USDT", parser: normalize.NewOKX},
		{name: "bybit", file: "bybit_v5_orderbook_snapshot.json", rule: book.Bybit, symbol: "BTC-USDT", parser: normalize.NewBybit},
		{name: "kraken", file: "kraken_v2_book_snapshot.json", rule: book.KrakenV2, symbol: "BTC-USD", parser: normalize.NewKraken, bare: true},
		{name: "coinbase", file: "coinbase_advanced_l2_data_snapshot.json", rule: book.Coinbase, symbol: "BTC-USD", parser: normalize.NewCoinbase},
		{name: "binance", file: "binance_depth_snapshot.json", rule: book.Binance, symbol: "BNB-BTC", parser: normalize.NewBinance,
			diff: `{"e":"depthUpdate","E":1700000000000,"s":"BNBBTC","U":499869753,"u":499869753,"b":[],"a":[]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, err := os.ReadFile(dir + c.file)
			require.NoError(t, err)
			ctx := context.Background()
			pools := schema.NewPools(nil)
			sink := &s46ctSink{events: pools.Events}
			opts := &book.Options{Sink: sink, Events: pools.Events,
				Resubscribe: func(context.Context, schema.Venue, string) error { return nil }}
			if c.diff != "" {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(raw) }))
				t.Cleanup(srv.Close)
				opts.Fetcher = &book.BinanceREST{BaseURL: srv.URL, Client: srv.Client()}
			}
			b, err := book.NewBook(c.rule, c.symbol, opts)
			require.NoError(t, err)
			books := book.NewBooks(sink, pools.Events, nil)
			books.Add(b)
			p := c.parser(pools.Events, books, nil)
			msg := raw
			if c.diff != "" {
				msg = []byte(c.diff)
			}
			if c.bare {
				// Both Kraken v2 samples carry a checksum that matches their
				// levels at no precision (taken from client libraries' tests,
				// not the venue): the book rightly refuses them. 0 is the
				// placeholder no book checks; the digits are the sample's.
				msg = regexp.MustCompile(`"checksum":\d+`).ReplaceAll(raw, []byte(`"checksum":0`))
			}
			require.NoError(t, p.HandleBytes(ctx, msg, 1_700_000_000_000_000_000))
			require.True(t, b.Live(), "the sample's book did not go live: %+v (markers %v)", b.Stats(), sink.gaps)
			var top schema.CanonicalEvent
			require.True(t, b.Top(0, &top))
			levels := append(append([]schema.Level(nil), top.Book.Bids...), top.Book.Asks...)
			require.NotEmpty(t, levels)
			for _, l := range levels {
				for _, d := range []schema.Decimal{l.Price, l.Qty} {
					tok := regexp.QuoteMeta(d.String())
					re := `"` + tok + `"`
					if c.bare {
						re = `:\s*` + tok + `\s*[,}]`
					}
					require.Regexp(t, re, string(raw), "%s: %s is not a token the venue sent", c.name, d)
				}
			}
			books.Close()
			require.NoError(t, pools.Shutdown(ctx))
		})
	}
}
