package meltica_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// s25ctBadReports are real execution reports (testdata/venues) each
// spoiled in one field, so that the parser must refuse it: a fill whose
// price it cannot read, a symbol it does not know (Bybit's all-in-one
// "execution" topic carries every category's fills, options' included).
var s25ctBadReports = []struct{ file, old, new string }{
	{"binance_executionReport_trade", `"L":  "0.99750000"`, `"L":  "x"`},
	{"binance_executionReport_trade", `"s":  "FDUSDUSDT"`, `"s":  "?"`},
	{"binance_futures_ORDER_TRADE_UPDATE_partial", `"L": "7100.50"`, `"L": "NaN"`},
	{"bybit_v5_execution", `"symbol":"XRPUSDT"`, `"symbol":"ETH-30DEC22-1400-C"`},
	{"bybit_v5_execution", `"execPrice":"0.3374"`, `"execPrice":"-1"`},
	{"okx_orders_fill", `"fillPx":"103698.9"`, `"fillPx":"x"`},
	{"kraken_v2_executions_trade", `"last_price":26599.9`, `"last_price":"x"`},
}

// Contract 3 (DESIGN.md): "Execution reports are never dropped", and the
// README: "Execution reports are never lost". normalize/doc.go says a
// message that cannot be normalised is dropped with a *ParseError; for a
// book message the subscriber is told by a gap marker ("a dropped book
// message is a lost one"). An execution report the parser refuses is a
// lost one too, and the host's order state silently misses it: the
// subscriber of execution reports must hear of it — the report, or an
// EventGap whose GapType is EventExecReport (the marker session already
// uses for reports it cannot reconcile) — not only the reader's error,
// which a wsclient reports on a queue that drops when full.
func TestS25ctRefusedExecutionReportIsAnnounced(t *testing.T) {
	ctx := context.Background()
	for _, c := range s25ctBadReports {
		t.Run(c.file+"/"+c.new, func(t *testing.T) {
			b, err := os.ReadFile("testdata/venues/" + c.file + ".json")
			require.NoError(t, err)
			msg := strings.Replace(string(b), c.old, c.new, 1)
			require.NotEqual(t, string(b), msg, "the sample changed")
			sink := &s25ctKeepSink{}
			pools := schema.NewPools(nil)
			venue, _, _ := strings.Cut(c.file, "_")
			p := s25ctParsers[venue](pools.Events, sink, nil)
			err = p.HandleBytes(ctx, []byte(msg), 1)
			var pe *normalize.ParseError
			require.True(t, errors.As(err, &pe), "a typed error: %v", err)
			announced := false
			for _, ev := range sink.evs {
				announced = announced || ev.Type == schema.EventExecReport ||
					(ev.Type == schema.EventGap && ev.Control.GapType == schema.EventExecReport)
				pools.Events.Put(ev)
			}
			assert.True(t, announced, "the refused report (%v) reaches the sink as a report or an execution-report gap marker", err)
		})
	}
}
