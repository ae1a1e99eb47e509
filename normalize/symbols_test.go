package normalize

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSymbolsFallback(t *testing.T) {
	t.Parallel()
	s := NewBinanceSymbols()
	for in, want := range map[string]string{
		"BTCUSDT": "BTC-USDT", "btcusdt": "BTC-USDT", "FDUSDUSDT": "FDUSD-USDT", "ETHBTC": "ETH-BTC",
		"BNBFDUSD": "BNB-FDUSD", "TUSDT": "T-USDT", "BTCUSD_200626": "BTC-USD-200626", "BTCUSD_PERP": "BTC-USD-PERP",
		"BTCUSDT_250328": "BTC-USDT-250328", "1INCHUSDT": "1INCH-USDT",
	} {
		got, err := s.Lookup([]byte(in))
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "USDT", "FOOBAR", "BTC-USDT", "BTCUSD_", "BTCUSD_PE RP", string(make([]byte, 65))} {
		_, err := s.Lookup([]byte(bad))
		require.ErrorIs(t, err, ErrUnknownSymbol, "%q", bad)
	}
}

func TestSymbolsRegistry(t *testing.T) {
	t.Parallel()
	ins, err := ParseBinanceExchangeInfo([]byte(`{"timezone":"UTC","symbols":[
		{"symbol":"WEIRDPAIR","status":"TRADING","baseAsset":"WEIRD","baseAssetPrecision":8,"quoteAsset":"PAIR"},
		{"symbol":"ETHBTC","baseAsset":"ETH","quoteAsset":"BTC"}]}`))
	require.NoError(t, err)
	require.Equal(t, []Instrument{{Symbol: "WEIRDPAIR", Base: "WEIRD", Quote: "PAIR", Rules: InstrumentRules{Trading: TradingOpen}}, {Symbol: "ETHBTC", Base: "ETH", Quote: "BTC"}}, ins)
	s := NewBinanceSymbols()
	require.NoError(t, s.Load(ins))
	got, err := s.LookupString("WEIRDPAIR")
	require.NoError(t, err)
	require.Equal(t, "WEIRD-PAIR", got)
	v, err := s.VenueSymbol("WEIRD-PAIR")
	require.NoError(t, err)
	require.Equal(t, "WEIRDPAIR", v)
	v, err = s.VenueSymbol("SOL-USDC")
	require.NoError(t, err)
	require.Equal(t, "SOLUSDC", v)
	for _, bad := range []string{"SOLUSDC", "A-B-C-D", "A-B-C D"} {
		_, err = s.VenueSymbol(bad)
		require.ErrorIs(t, err, ErrUnknownSymbol, bad)
	}
	require.ErrorIs(t, s.Load([]Instrument{{Symbol: "X"}}), ErrBadValue)
	_, err = ParseBinanceExchangeInfo([]byte(`{"symbols":1}`))
	require.ErrorIs(t, err, ErrMalformed)

	// A parser using the registry resolves the loaded symbol.
	p, sink, _ := newRecParser(t, &Options{Symbols: s})
	require.NoError(t, p.HandleBytes(context.Background(), []byte(`{"e":"trade","s":"WEIRDPAIR","t":1,"p":"1","q":"1","T":1,"m":true}`), 1))
	require.Equal(t, "WEIRD-PAIR", sink.got[0].Symbol)
}

func TestSymbolsDelimiterAndAliases(t *testing.T) {
	t.Parallel()
	s := NewSymbols(SymbolRules{Delimiter: '/', Aliases: map[string]string{"XBT": "BTC"}})
	got, err := s.Lookup([]byte("XBT/USD"))
	require.NoError(t, err)
	require.Equal(t, "BTC-USD", got)
	v, err := s.VenueSymbol("ETH-USD")
	require.NoError(t, err)
	require.Equal(t, "ETH/USD", v)
	_, err = s.VenueSymbol("ETH-USD-PERP")
	require.ErrorIs(t, err, ErrUnknownSymbol)
}

func TestSymbolsConcurrent(t *testing.T) {
	t.Parallel()
	s := NewBinanceSymbols()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				_, _ = s.Lookup([]byte("ETHUSDT"))
				_ = s.Load([]Instrument{{Symbol: "ABCUSDT", Base: "ABC", Quote: "USDT"}})
			}
		}()
	}
	wg.Wait()
	got, err := s.LookupString("ETHUSDT")
	require.NoError(t, err)
	require.Equal(t, "ETH-USDT", got)
}

func TestSymbolsLookupAllocs(t *testing.T) {
	s := NewBinanceSymbols()
	b := []byte("nknusdt")
	_, _ = s.Lookup(b)
	require.Zero(t, testing.AllocsPerRun(100, func() { _, _ = s.Lookup(b) }))
}

// Interning n new symbols costs O(n) table copying, not a copy per symbol
// (3,000 new symbols in one frame used to copy 4.5 million entries).
func TestSymbolsInterningLinear(t *testing.T) {
	s := NewBinanceSymbols()
	const n = 3000
	for i := range n {
		got, err := s.LookupString(fmt.Sprintf("C%dUSDT", i))
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("C%d-USDT", i), got)
	}
	s.mu.Lock()
	copied := s.copied
	s.mu.Unlock()
	require.LessOrEqual(t, copied, 4*n, "entries copied for %d new symbols", n)
	for i := range n { // every one is still found, lock-free or not
		got, err := s.Lookup([]byte(fmt.Sprintf("c%dusdt", i)))
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("C%d-USDT", i), got)
	}
	// Loading instruments keeps the fallback's symbols.
	require.NoError(t, s.Load([]Instrument{{Symbol: "XYZABC", Base: "XYZ", Quote: "ABC"}}))
	got, err := s.LookupString("C2999USDT")
	require.NoError(t, err)
	require.Equal(t, "C2999-USDT", got)
}
