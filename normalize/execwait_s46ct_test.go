package normalize_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s46ctChanSink hands each event to a channel.
type s46ctChanSink chan *schema.CanonicalEvent

func (s s46ctChanSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s <- ev
	return nil
}

// Contract 3 ("not on a full pool") and normalize's "Pool exhaustion":
// an execution report waits for the event pool with the caller's ctx and
// is never dropped — for every venue's report, not Binance's alone. The
// pool's one event is held by the host; each venue's report (Binance and
// Kraken v2 from the shared samples, OKX orders, Bybit execution,
// Coinbase user, as the venues document them) is handed to its parser on
// a goroutine: it waits (the pool counts the wait, nothing is published,
// HandleBytes has not returned), and once the host gives the event back
// the report goes out, no error, nothing counted dropped.
func TestS46ctExecReportWaitsForTheEventPoolEveryVenue(t *testing.T) {
	sample := func(name string) string {
		b, err := os.ReadFile("/work/shared/venues/" + name)
		if err != nil {
			t.Skip("no shared venue samples")
		}
		return string(b)
	}
	for _, c := range []struct {
		name   string
		parser func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser
		msg    string
	}{
		{"binance", normalize.NewBinance, sample("binance_executionReport_trade.json")},
		{"kraken", normalize.NewKraken, sample("kraken_v2_executions_new.json")},
		{"okx", normalize.NewOKX, `{"arg":{"channel":"orders","instType":"SWAP"},"data":[{"accFillSz":"0.01","algoClOrdId":"","algoId":"","amendSource":"","avgPx":"103698.9","cTime":"1746947317401","cancelSource":"","category":"normal","ccy":"USDT","clOrdId":"c46","code":"0","execType":"M","fee":"-0.02","feeCcy":"USDT","fillPx":"103698.9","fillSz":"0.01","fillTime":"1746947317402","instId":"BTC-USDT-SWAP","instType":"SWAP","lever":"2.0","msg":"","ordId":"2497956918703120384","ordType":"limit","pnl":"0","posSide":"long","px":"103698.9","reduceOnly":"false","side":"buy","source":"","state":"partially_filled","sz":"0.03","tag":"","tdMode":"isolated","tradeId":"46","uTime":"1746947317402","amendResult":"","reqId":""}]}`},
		{"bybit", normalize.NewBybit, `{"id":"592324803b2785-26fa-4214-9963-bdd4727f07be","topic":"execution","creationTime":1672364174455,"data":[{"category":"linear","symbol":"BTCUSDT","execFee":"0.005061","execId":"7e2ae69c-4edf-5800-a352-893d52b446aa","execPrice":"16500","execQty":"0.4","execType":"Trade","execValue":"6600","isMaker":true,"feeRate":"0.0001","tradeIv":"","markIv":"","blockTradeId":"","markPrice":"16550","indexPrice":"","underlyingPrice":"","leavesQty":"0.6","orderId":"b1","orderLinkId":"l-b1","orderPrice":"16500","orderQty":"1","orderType":"Limit","stopOrderType":"UNKNOWN","side":"Buy","execTime":"1672364174443","isLeverage":"0","closedSize":"","seq":4688002127}]}`},
		{"coinbase", normalize.NewCoinbase, `{"channel":"user","client_id":"","timestamp":"2026-04-07T14:30:06.000000Z","sequence_num":0,"events":[{"type":"update","orders":[{"order_id":"o46","client_order_id":"c-46","cumulative_quantity":"0","leaves_quantity":"1","avg_price":"0","total_fees":"0","filled_value":"0","status":"OPEN","product_id":"BTC-USD","creation_time":"2026-04-07T14:29:55.123456Z","order_side":"BUY","order_type":"Limit","limit_price":"68000","cancel_reason":"","reject_reason":"","total_value_after_fees":"0","contract_expiry_type":"UNKNOWN_CONTRACT_EXPIRY_TYPE","product_type":"SPOT","risk_managed_by":"UNKNOWN_RISK_MANAGEMENT_TYPE","time_in_force":"GOOD_UNTIL_CANCELLED","trigger_status":"INVALID_ORDER_TYPE"}]}]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			events := pool.New("events", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
			held, err := events.Get(ctx)
			require.NoError(t, err)
			sink := make(s46ctChanSink, 4)
			p := c.parser(events, sink, nil)
			done := make(chan error, 1)
			go func() { done <- p.HandleBytes(ctx, []byte(c.msg), 1) }()
			require.Eventually(t, func() bool { return events.Stats().Waits > 0 }, time.Minute, time.Millisecond,
				"the report did not wait for the pool")
			select {
			case err := <-done:
				t.Fatalf("HandleBytes returned on an exhausted pool: %v", err)
			case ev := <-sink:
				t.Fatalf("published on an exhausted pool: %s", ev.Type)
			default:
			}
			events.Put(held)
			require.NoError(t, <-done)
			ev := <-sink
			require.Equal(t, schema.EventExecReport, ev.Type, "the report, not dropped")
			require.NotNil(t, ev.Exec)
			events.Put(ev)
			require.Zero(t, p.Stats().Dropped)
			require.NoError(t, events.Shutdown(ctx))
		})
	}
}
