package normalize

import (
	"context"
	"errors"
	"testing"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// fuzzS35Reports feeds a status report of an order, then data twice, to
// one parser of venue: no panic, every error a *ParseError, every event
// back in its pool, and no execution report that names the order's
// status yet says ExecUnknown (a documented report always has its
// ExecType; an undocumented word is an error, never Unknown).
func fuzzS35Reports(f *testing.F, venue schema.Venue, prefix string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		events := pool.New("fuzz", 8, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
		sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			defer events.Put(ev)
			if err := s41fuzzCheck(ev); err != nil {
				t.Fatalf("published an invalid event: %v: %+v", err, ev)
			}
			if x := ev.Exec; ev.Type == schema.EventExecReport && x != nil && !x.Reconciled && x.Status != schema.StatusUnknown && x.ExecType == schema.ExecUnknown {
				t.Fatalf("a report of status %v with ExecUnknown: %+v", x.Status, x)
			}
			return nil
		})
		p := newVenueParser(venue, events, sink)
		for _, b := range [][]byte{[]byte(prefix), data, data} {
			err := p.HandleBytes(context.Background(), b, 1)
			var pe *ParseError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			if n := events.Stats().InUse; n != 0 {
				t.Fatalf("%d events not returned", n)
			}
		}
		s41fuzzNoPanic(t, p)
	})
}

func FuzzS35KrakenReports(f *testing.F) {
	fuzzS35Reports(f, schema.VenueKraken, krakenExecPush("new", "new"),
		krakenExecPush("filled", "filled"), krakenExecPush("status", "partially_filled"),
		krakenExecPush("restated", "new"), krakenExecPush("iceberg_refill", "partially_filled"))
}

func FuzzS35BybitReports(f *testing.F) {
	fuzzS35Reports(f, schema.VenueBybit, bybitOrderPush("o-1", "New", "100", "2", "0", "0", "2"),
		bybitOrderPush("o-1", "PartiallyFilled", "100", "2", "0", "1", "1"), bybitOrderPush("o-1", "Filled", "100", "2", "0", "2", "0"),
		bybitExec("Trade", "e-1", "1", "1"), bybitExec("Funding", "e-2", "1", "1"))
}

func FuzzS35OKXReports(f *testing.F) {
	fuzzS35Reports(f, schema.VenueOKX, okxOrderPush("partially_filled", "0.4", "-0.01", ""),
		okxOrderPush("filled", "0.4", "-0.01", ""), okxOrderPush("partially_filled", "0", "0", ""), okxAlgo("algo-advance", "pause"))
}

func FuzzS35CoinbaseReports(f *testing.F) {
	fuzzS35Reports(f, schema.VenueCoinbase, string(coinbaseUser("snapshot", "OPEN", "0.1", "0.9", "5000.00", "1.00")),
		string(coinbaseUser("update", "OPEN", "0.4", "0.6", "20000.00", "4.00")), string(coinbaseUser("update", "FILLED", "0.4", "0", "20000.00", "4.00")))
}

func FuzzS35BinanceReports(f *testing.F) {
	const contract = `{"e":"contractInfo","E":1669356423908,"s":"IOTAUSDT","ps":"IOTAUSDT","ct":"PERPETUAL","dt":4133404800000,"ot":1569398400000,"cs":"TRADING","bks":[]}`
	fuzzS35Reports(f, schema.VenueBinance, contract, contract,
		`{"e":"ALGO_UPDATE","T":1,"E":2,"o":{"caid":"sl-1","aid":1000000202490585,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"SELL","ps":"SHORT","f":"GTE_GTC","q":"0.2","X":"FINISHED","ai":"77","ap":"191.5","aq":"0.2","tp":"190","p":"0","R":true,"tt":3}}`,
		bnOrderTradeUpdate("TRADE", "PARTIALLY_FILLED", "0.1", "0.1", "1"))
}
