package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Kraken v1 "ticker" sends its best ask "a", best bid "b" and last trade
// "c" in every message (Kraken WebSockets API v1, "ticker": each an array
// led by the price), as v2's ticker sends bid, ask and last, which the
// parser already requires (normalize/doc.go). A v1 ticker without one —
// the member absent, or its price null — was published with a price of 0
// there: a best ask of 0 under every bid. It is a *ParseError
// (ErrMissingField) naming the member.
func TestS27KrakenV1TickerPrices(t *testing.T) {
	for _, c := range []struct{ name, msg, field string }{
		{"ask price null", `[1668,{"a":[null,35,"35.72892241"],"b":["13.232900",185,"185.18432037"],"c":["13.253900","3.71672000"]},"ticker","WAVES/EUR"]`, "a"},
		{"bid absent", `[1668,{"a":["13.253900",35,"35.72892241"],"c":["13.253900","3.71672000"]},"ticker","WAVES/EUR"]`, "b"},
		{"last absent", `[1668,{"a":["13.253900",35,"35.72892241"],"b":["13.232900",185,"185.18432037"]},"ticker","WAVES/EUR"]`, "c"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, events, err := handleOne(t, "kraken", c.msg)
			requireParseError(t, err, c.field, ErrMissingField)
			assert.Empty(t, sink.got)
			assert.Zero(t, events.Stats().InUse)
		})
	}
}

// Bybit's "liquidation" push names the side in every message (Bybit v5
// "Liquidation": symbol, side, price, size, updatedTime), as its
// "allLiquidation" does ("S", already required). Without it the
// liquidation was published with no side: which positions were closed
// out is the point of the message. A *ParseError (ErrMissingField).
func TestS27BybitLiquidationSide(t *testing.T) {
	for _, side := range []string{`"side":null,`, ``} {
		msg := `{"data":{"price":"0.03803",` + side + `"size":"1637","symbol":"GALAUSDT","updatedTime":1673251091822},"topic":"liquidation.GALAUSDT","ts":1673251091822,"type":"snapshot"}`
		sink, events, err := handleOne(t, "bybit", msg)
		requireParseError(t, err, "side", ErrMissingField)
		assert.Empty(t, sink.got)
		assert.Zero(t, events.Stats().InUse)
	}
}

// A Bybit ticker snapshot is the whole ticker (Bybit v5 "Ticker": spot
// tickers are snapshots only; derivatives send a snapshot, then deltas of
// the fields that changed, which the parser merges into it). A snapshot
// without "lastPrice" was published with a last price of 0 and kept as
// the base every later delta merges into, so the 0 stayed until a delta
// happened to send the price. It is a *ParseError (ErrMissingField).
// A delta without it is legal: the price did not change.
func TestS27BybitTickerSnapshotLastPrice(t *testing.T) {
	snap := `{"topic":"tickers.BTCUSDT","ts":1673853746003,"type":"snapshot","cs":2588407389,"data":{"symbol":"BTCUSDT","highPrice24h":"21426.99","lowPrice24h":"20575","prevPrice24h":"20704.93","volume24h":"6780.866843","turnover24h":"141946527.22907118","price24hPcnt":"0.0196","usdIndexPrice":"21120.2400136"}}`
	sink, events, err := handleOne(t, "bybit", snap)
	requireParseError(t, err, "lastPrice", ErrMissingField)
	assert.Empty(t, sink.got)
	assert.Zero(t, events.Stats().InUse)
}
