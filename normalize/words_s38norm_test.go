package normalize

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS38normBinanceFuturesGTD: USDⓈ-M and COIN-M orders take timeInForce
// GTD (Binance USDⓈ-M "New Order": "GTD" with goodTillDate), and their
// ORDER_TRADE_UPDATE says it in "f", its expiry in "gtd" ("TIF GTD order
// auto cancel time", Binance USDⓈ-M "Event: Order Update" example). The
// word was not in the table: a GTD order's reports had TimeInForce
// Unknown, where Kraken's "gtd" and Coinbase's GOOD_UNTIL_DATE_TIME are
// GTC (the schema has no GTD: an order that rests until canceled or its
// date). Failed before: TIFUnknown.
func TestS38normBinanceFuturesGTD(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	msg := `{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","c":"a","S":"BUY","o":"LIMIT","f":"GTD","q":"1","p":"2","x":"NEW","X":"NEW","i":3,"l":"0","z":"0","L":"0","T":1,"t":0,"ps":"BOTH","gtd":1693207680000}}`
	require.NoError(t, p.HandleBytes(context.Background(), []byte(msg), 1))
	require.Len(t, sink.got, 1)
	assert.Equal(t, schema.TIFGTC, sink.got[0].Exec.TimeInForce)
}

// TestS38normBybitRPI: Bybit v5 "Enums → timeInForce" lists RPI (Retail
// Price Improvement) beside GTC, IOC, FOK and PostOnly; an RPI order is
// post-only ("act as maker orders, adding liquidity"), as PostOnly's is,
// which the order topic reads as a LimitMaker, GTC. RPI was not in the
// table: its reports had TimeInForce Unknown and type Limit — a maker-only
// order a strategy took for one that may take. Failed before.
func TestS38normBybitRPI(t *testing.T) {
	f := newConnFeed(t, schema.VenueBybit)
	msg := strings.Replace(s37normBybitOrder("New", "100", "1672364262474", "1672364262457"), `"timeInForce":"GTC"`, `"timeInForce":"RPI"`, 1)
	evs, err := f.feed(1, msg)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	x := evs[0].Exec
	assert.Equal(t, schema.TIFGTC, x.TimeInForce)
	assert.Equal(t, schema.OrderTypeLimitMaker, x.Type)
}

// TestS38normOKXELP: OKX's Enhanced Liquidity Program "introduces a new
// post-only order type (ELP)", placed "specifying elp in the ordType
// field" (OKX help, "OKX Enhanced Liquidity Program"); the orders channel
// reports it with that ordType. The word was not in the table: its
// reports had type and time in force Unknown, where post_only's are
// LimitMaker, GTC. Failed before.
func TestS38normOKXELP(t *testing.T) {
	x := s38rvnormOKXOrdType(t, "elp") // s38rvnorm: the push built once (words_s38rvnorm_test.go)
	assert.Equal(t, schema.OrderTypeLimitMaker, x.Type)
	assert.Equal(t, schema.TIFGTC, x.TimeInForce)
}
