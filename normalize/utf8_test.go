package normalize

import (
	"context"
	"testing"
	"time"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Binance lists pairs whose base asset is written in Chinese characters
// ("币安人生USDT"): such a symbol works wherever an ASCII one does.
const cnPair, cnCanon = "币安人生USDT", "币安人生-USDT"

func TestUTF8SymbolBinance(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	ctx := context.Background()
	raw := []byte(`{"e":"trade","E":1,"s":"` + cnPair + `","t":7,"p":"0.25","q":"10","T":1,"m":false}`)
	require.NoError(t, p.HandleBytes(ctx, raw, 1), "no exchangeInfo needed: the quote asset splits it")
	comb := []byte(`{"stream":"币安人生usdt@bookTicker","data":{"u":5,"s":"` + cnPair + `","b":"0.24","B":"1","a":"0.26","A":"2"}}`)
	require.NoError(t, p.HandleBytes(ctx, comb, 1))
	require.Len(t, sink.got, 2)
	for _, ev := range sink.got {
		require.Equal(t, cnCanon, ev.Symbol)
	}

	// Stream names fold ASCII only; the registry finds the lower-case name.
	stream, err := BinanceStream(p.Symbols(), cnCanon, "trade")
	require.NoError(t, err)
	require.Equal(t, "币安人生usdt@trade", stream)
	sym, err := p.Symbols().Lookup([]byte("币安人生usdt"))
	require.NoError(t, err)
	require.Equal(t, cnCanon, sym)
	sub, err := BinanceSubscribe(3, stream)
	require.NoError(t, err)
	var req struct {
		Params []string `json:"params"`
	}
	require.NoError(t, json.Unmarshal(sub, &req))
	require.Equal(t, []string{stream}, req.Params)

	// Loaded from exchangeInfo too.
	s := NewBinanceSymbols()
	require.NoError(t, s.Load([]Instrument{{Symbol: cnPair, Base: "币安人生", Quote: "USDT"}}))
	v, err := s.VenueSymbol(cnCanon)
	require.NoError(t, err)
	require.Equal(t, cnPair, v)

	// Orders: the venue symbol goes out as UTF-8 through goccy.
	enc := NewBinanceOrders(NewCredentials("key", NewHMACSigner([]byte("secret"))), &OrderOptions{Symbols: s, Now: func() time.Time { return time.UnixMilli(1) }})
	b, err := enc.AppendRequest(nil, 9, &schema.OrderRequest{Symbol: cnCanon, Side: schema.SideBuy, Type: schema.OrderTypeMarket, Qty: dec("10")})
	require.NoError(t, err)
	var order struct {
		Params map[string]any `json:"params"`
	}
	require.NoError(t, json.Unmarshal(b, &order), "%s", b)
	require.Equal(t, cnPair, order.Params["symbol"])
}

// Only ASCII letters are folded: "ç" is not "Ç".
func TestUTF8SymbolFoldsASCIIOnly(t *testing.T) {
	s := NewBinanceSymbols()
	upper, err := s.Lookup([]byte("ÇUSDT"))
	require.NoError(t, err)
	lower, err := s.Lookup([]byte("çusdt"))
	require.NoError(t, err)
	require.Equal(t, "Ç-USDT", upper)
	require.Equal(t, "ç-USDT", lower)
}

// The other venues parse and subscribe such symbols too.
func TestUTF8SymbolOtherVenues(t *testing.T) {
	for _, tc := range []struct {
		venue schema.Venue
		frame string
		want  string
	}{
		{schema.VenueOKX, `{"arg":{"channel":"trades","instId":"币安人生-USDT"},"data":[{"instId":"币安人生-USDT","tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1"}]}`, cnCanon},
		{schema.VenueBybit, `{"topic":"publicTrade.币安人生USDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"币安人生USDT","S":"Buy","v":"1","p":"1","i":"x"}]}`, cnCanon},
		{schema.VenueCoinbase, `{"channel":"market_trades","timestamp":"2024-01-01T00:00:00Z","sequence_num":1,"events":[{"type":"update","trades":[{"trade_id":"1","product_id":"币安人生-USD","price":"1","size":"1","side":"BUY","time":"2024-01-01T00:00:00Z"}]}]}`, "币安人生-USD"},
		{schema.VenueKraken, `{"channel":"trade","type":"update","data":[{"symbol":"币安人生/USD","side":"buy","price":1,"qty":1,"trade_id":1,"timestamp":"2024-01-01T00:00:00Z"}]}`, "币安人生-USD"},
	} {
		t.Run(string(tc.venue), func(t *testing.T) {
			p, sink := newTestVenue(t, tc.venue)
			require.NoError(t, p.HandleBytes(context.Background(), []byte(tc.frame), 1))
			require.Len(t, sink.got, 1)
			require.Equal(t, tc.want, sink.got[0].Symbol)
		})
	}
	for _, build := range []func() ([]byte, error){
		func() ([]byte, error) { return OKXSubscribe("trades", "币安人生-USDT") },
		func() ([]byte, error) { return BybitSubscribe(1, "publicTrade.币安人生USDT") },
		func() ([]byte, error) { return CoinbaseSubscribe("market_trades", "币安人生-USD") },
		func() ([]byte, error) { return KrakenSubscribe(1, "trade", "币安人生/USD") },
	} {
		b, err := build()
		require.NoError(t, err)
		require.Contains(t, string(b), "币安人生")
		require.True(t, json.Unmarshal(b, new(any)) == nil)
	}
}
