package normalize

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Prices every venue shares (doc.go: "no negative prices, no book level at
// price 0 — ErrBadValue"): every venue sample with each scalar replaced in
// turn by a zero or a negative value. No event may carry a book level at
// price 0 — a delete (quantity 0) at price 0 included: no venue rests an
// order there, and a message that says so is corrupt —, a trade or
// liquidation at price 0, nor a negative price of any section (a Bybit
// ticker's markPrice and indexPrice included, as Binance's markPriceUpdate
// "p" and "i"). Found by the outside contract team
// (TestS29ctBookLevelAtPriceZero, TestS29ctBybitTickerNegativeMark): Bybit,
// OKX, Kraken v2 and Coinbase delivered a delete at price 0; Bybit tickers
// a negative markPrice, indexPrice.
func TestS29rvPricesRefused(t *testing.T) {
	eachVenueSample(t, func(t *testing.T, venue schema.Venue, doc []byte) {
		events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
		var bad []string
		sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			bad = append(bad, badPrices(ev)...)
			events.Put(ev)
			return nil
		})
		vals := []string{`"0"`, `0`, `"-0"`, `"0.000"`, `"-1"`, `-1`, `"-0.5"`}
		if raceEnabled {
			vals = []string{`"0"`, `0`, `"-1"`} // a loaded machine: the forms that matter most
		}
		eachScalarAs(t, venue, doc, vals, events, sink, func(frame []byte) { require.Empty(t, bad, "%.400s", frame) })
	})
}

// eachScalarAs feeds doc with each of its scalars replaced in turn by each
// of vals to a new parser of venue, which must return no error but a
// *ParseError, and calls check with each frame after it was parsed. Under
// -race 64 spans (a subset of the run without it, CI's coverage step):
// the parser runs on the test's goroutine alone, where the detector has
// nothing to find.
func eachScalarAs(t *testing.T, venue schema.Venue, doc []byte, vals []string, events *pool.Pool[*schema.CanonicalEvent], sink Sink, check func(frame []byte)) {
	t.Helper()
	for _, sp := range raceSpans(scalarSpans(t, doc, 1000), 64) {
		for _, m := range vals {
			frame := append(append(append([]byte{}, doc[:sp[0]]...), m...), doc[sp[1]:]...)
			p := newVenueParser(venue, events, sink).(*Parser)
			err := p.HandleBytes(context.Background(), frame, 1)
			var pe *ParseError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("untyped error %v for %s", err, frame)
			}
			check(frame)
		}
	}
}

// eachVenueSample runs f, as a subtest named after the file, on every
// sample of testdata/venues with its venue.
func eachVenueSample(t *testing.T, f func(t *testing.T, venue schema.Venue, doc []byte)) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "venues", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	venues := map[string]schema.Venue{"binance": schema.VenueBinance, "coinbase": schema.VenueCoinbase,
		"kraken": schema.VenueKraken, "okx": schema.VenueOKX, "bybit": schema.VenueBybit}
	for _, file := range files {
		name := filepath.Base(file)
		venue, ok := venues[name[:strings.IndexByte(name, '_')]]
		require.True(t, ok, name)
		doc, err := os.ReadFile(file)
		require.NoError(t, err)
		t.Run(name, func(t *testing.T) { f(t, venue, doc) })
	}
}

// badPrices names the prices of ev that no venue may deliver.
func badPrices(ev *schema.CanonicalEvent) []string {
	var bad []string
	for _, lv := range append(append([]schema.Level(nil), ev.Book.Bids...), ev.Book.Asks...) {
		if lv.Price.Sign() <= 0 || lv.Qty.Sign() < 0 {
			bad = append(bad, "level "+lv.Price.String()+" "+lv.Qty.String())
		}
	}
	if ev.Type == schema.EventTrade && ev.Trade.Price.Sign() <= 0 {
		bad = append(bad, "trade at "+ev.Trade.Price.String())
	}
	if ev.Type == schema.EventLiquidation && ev.Liquidation.Price.Sign() <= 0 && ev.Liquidation.AvgPrice.Sign() <= 0 {
		bad = append(bad, "liquidation at "+ev.Liquidation.Price.String())
	}
	s := s42normRead(ev)
	for n, d := range map[string]schema.Decimal{"Trade.Price": ev.Trade.Price, "BBO.BidPrice": ev.BBO.BidPrice, "BBO.AskPrice": ev.BBO.AskPrice,
		"Ticker.Last": s.Ticker.Last, "Ticker.BidPrice": s.Ticker.BidPrice, "Ticker.AskPrice": s.Ticker.AskPrice,
		"Ticker.MarkPrice": s.Ticker.MarkPrice, "Ticker.IndexPrice": s.Ticker.IndexPrice, "Ticker.Open": s.Ticker.Open,
		"Ticker.High": s.Ticker.High, "Ticker.Low": s.Ticker.Low, "Mark.MarkPrice": s.Mark.MarkPrice,
		"Mark.IndexPrice": s.Mark.IndexPrice, "Mark.EstSettlePrice": s.Mark.EstSettlePrice,
		"Kline.Open": s.Kline.Open, "Kline.High": s.Kline.High, "Kline.Low": s.Kline.Low, "Kline.Close": s.Kline.Close,
		"Liquidation.Price": s.Liquidation.Price, "Liquidation.AvgPrice": s.Liquidation.AvgPrice,
		"Exec.Price": s.Exec.Price, "Exec.LastFillPrice": s.Exec.LastFillPrice, "Exec.AvgPrice": s.Exec.AvgPrice} {
		if d.Sign() < 0 {
			bad = append(bad, n+" negative "+d.String())
		}
	}
	return bad
}
