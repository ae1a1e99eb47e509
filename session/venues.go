package session

import (
	"strings"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// venueSpec is what the session knows of a venue's market data, as data:
// its parser and symbol spelling, how channels are subscribed and which
// channel keeps a book by which rule. Binance also has REST (instruments,
// book snapshots, server time) and the WS-API (orders, user data); the
// others are market data only.
type venueSpec struct {
	venue  schema.Venue
	rules  func() normalize.SymbolRules
	parser func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser
	// subscribe returns the message subscribing channel for venue symbols;
	// nil for Binance, whose streams are wsclient topics.
	subscribe func(channel string, venueSyms []string) ([]byte, error)
	// book returns the rule of the book a channel keeps, if it keeps one.
	book func(channel string) (book.Rule, bool)
}

// venues are the venues a session serves. Their public endpoints are the
// Stream URLs to give (Binance's are in [BinanceLive]): Kraken
// wss://ws.kraken.com/v2, OKX wss://ws.okx.com:8443/ws/v5/public, Bybit
// wss://stream.bybit.com/v5/public/spot, Coinbase
// wss://advanced-trade-ws.coinbase.com.
var venues = map[schema.Venue]*venueSpec{
	schema.VenueBinance: {
		venue: schema.VenueBinance, rules: normalize.BinanceSymbolRules, parser: normalize.NewBinance,
		book: func(ch string) (book.Rule, bool) { return book.Binance, isBookChannel(ch) },
	},
	// Kraken v2 ("trade", "ticker", "book", "ohlc"). Its book checksum
	// needs each pair's price and quantity precision, which the session
	// does not load: no books.
	schema.VenueKraken: {
		venue: schema.VenueKraken, rules: normalize.KrakenSymbolRules, parser: normalize.NewKraken,
		subscribe: func(ch string, syms []string) ([]byte, error) { return normalize.KrakenSubscribe(1, ch, syms...) },
		book:      func(string) (book.Rule, bool) { return book.Rule{}, false },
	},
	// OKX v5 public ("trades", "tickers", "bbo-tbt", "books": the 400-level
	// book with checksum).
	schema.VenueOKX: {
		venue: schema.VenueOKX, rules: normalize.OKXSymbolRules, parser: normalize.NewOKX,
		subscribe: func(ch string, syms []string) ([]byte, error) { return normalize.OKXSubscribe(ch, syms...) },
		book:      func(ch string) (book.Rule, bool) { return book.OKX, ch == "books" },
	},
	// Bybit v5 ("publicTrade", "tickers", "orderbook.50", …: a channel is
	// the topic before the symbol).
	schema.VenueBybit: {
		venue: schema.VenueBybit, rules: normalize.BybitSymbolRules, parser: normalize.NewBybit,
		subscribe: func(ch string, syms []string) ([]byte, error) {
			topics := make([]string, len(syms))
			for i, s := range syms {
				topics[i] = ch + "." + s
			}
			return normalize.BybitSubscribe(1, topics...)
		},
		book: func(ch string) (book.Rule, bool) {
			depth, ok := strings.CutPrefix(ch, "orderbook.")
			if !ok {
				return book.Rule{}, false
			}
			r, err := book.Bybit.WithDepth(atoi(depth))
			return r, err == nil
		},
	},
	// Coinbase Advanced Trade ("market_trades", "ticker", "level2").
	schema.VenueCoinbase: {
		venue: schema.VenueCoinbase, rules: normalize.CoinbaseSymbolRules, parser: normalize.NewCoinbase,
		subscribe: func(ch string, syms []string) ([]byte, error) { return normalize.CoinbaseSubscribe(ch, syms...) },
		book:      func(ch string) (book.Rule, bool) { return book.Coinbase, ch == "level2" },
	},
}

// atoi reads a small decimal number; -1 when it is not one.
func atoi(s string) int {
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' || n > 1<<20 {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	if s == "" {
		return -1
	}
	return n
}
