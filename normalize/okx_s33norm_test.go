package normalize

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// okxAlgo is an OKX v5 "Algo orders channel" (orders-algo) push laid out
// as the page lists its fields: a trigger order of 2 contracts, sell,
// trigger price 30000 at market (ordPx -1).
func okxAlgo(channel, state string) string {
	return `{"arg":{"channel":"` + channel + `","uid":"77982378738415879","instType":"SWAP"},"data":[{"actualPx":"","actualSide":"","actualSz":"0","algoClOrdId":"stop1","algoId":"581878926302093312","attachAlgoOrds":[],"amendResult":"","cTime":"1685002746818","uTime":"1708679675245","ccy":"","clOrdId":"","closeFraction":"","failCode":"","instId":"BTC-USDT-SWAP","instType":"SWAP","last":"31174.8","lever":"10","notionalUsd":"600.0","ordId":"","ordIdList":[],"ordPx":"-1","ordType":"trigger","posSide":"long","reduceOnly":"true","reqId":"","side":"sell","slOrdPx":"","slTriggerPx":"","slTriggerPxType":"","state":"` + state + `","sz":"2","tag":"","tdMode":"cross","tgtCcy":"","tpOrdPx":"","tpTriggerPx":"","tpTriggerPxType":"","triggerPx":"30000","triggerPxType":"last","triggerTime":"","amendPxOnTriggerType":"0"}]}`
}

// OKX algo orders (orders-algo: trigger, conditional, oco, chase;
// algo-advance: iceberg, twap, move_order_stop) were counted Unknown: a
// bot's stop orders went unreported. Each push is an EventExecReport of
// the algo order — VenueOrderID algoId, ClientOrderID algoClOrdId — like
// Binance's ALGO_UPDATE. Its trigger is not a fill: "effective" (the
// order was placed; its fills come on the orders channel, under its own
// ordId) is ExecTriggered with no LastFillQty, so a host summing fills
// never counts one twice.
func TestS33OKXAlgoOrders(t *testing.T) {
	for _, c := range []struct {
		channel, state string
		exec           schema.ExecType
		status         schema.OrderStatus
	}{
		{"orders-algo", "live", schema.ExecNew, schema.StatusNew},
		{"orders-algo", "partially_effective", schema.ExecTriggered, schema.StatusNew},
		{"orders-algo", "effective", schema.ExecTriggered, schema.StatusNew},
		{"orders-algo", "canceled", schema.ExecCanceled, schema.StatusCanceled},
		{"orders-algo", "order_failed", schema.ExecRejected, schema.StatusRejected},
		{"orders-algo", "partially_failed", schema.ExecRejected, schema.StatusRejected},
		{"algo-advance", "live", schema.ExecNew, schema.StatusNew},
		{"algo-advance", "pause", schema.ExecOrderStatus, schema.StatusNew},
		{"algo-advance", "effective", schema.ExecTriggered, schema.StatusNew},
	} {
		t.Run(c.channel+"/"+c.state, func(t *testing.T) {
			p, got := feedFrames(t, NewOKX, nil, []string{okxAlgo(c.channel, c.state)})
			require.Len(t, got, 1)
			ev := got[0]
			require.Equal(t, schema.EventExecReport, ev.Type)
			assert.Equal(t, "BTC-USDT-PERP", ev.Symbol)
			assert.Equal(t, int64(1708679675245)*1e6, ev.ExchangeTS, "uTime")
			x := ev.Exec
			assert.Equal(t, c.exec, x.ExecType)
			assert.Equal(t, c.status, x.Status)
			assert.Equal(t, "581878926302093312", x.VenueOrderID.String())
			assert.Equal(t, "stop1", x.ClientOrderID.String())
			assert.Equal(t, schema.SideSell, x.Side)
			requireDigits(t, "2", x.Qty)
			requireDigits(t, "30000", x.StopPrice)
			assert.True(t, x.Price.IsZero(), "ordPx -1: at market")
			assert.True(t, x.LastFillQty.IsZero() && x.TradeID.IsZero(), "a trigger is no fill")
			assert.Equal(t, schema.PositionLong, x.PositionSide)
			assert.True(t, x.ReduceOnly)
			assert.Equal(t, int64(1685002746818)*1e6, x.OrderCreated)
			st := p.Stats()
			assert.Zero(t, st.Unknown)
			assert.Zero(t, st.Errors)
		})
	}
	// A state the page does not list is an error, never a report of
	// nothing; a push without its algoId, too.
	_, _, err := handleOne(t, "okx", okxAlgo("orders-algo", "teleported"))
	requireParseError(t, err, "state", ErrUnknownStatus)
	_, _, err = handleOne(t, "okx", strings.Replace(okxAlgo("orders-algo", "live"), `"algoId":"581878926302093312",`, "", 1))
	requireParseError(t, err, "algoId", ErrMissingField)
}

// The advance channel's trailing stop names its trigger in moveTriggerPx.
func TestS33OKXAlgoAdvanceMoveStop(t *testing.T) {
	_, got := feedFrames(t, NewOKX, nil, []string{okxFixture(t, "algo_advance")})
	require.Len(t, got, 1)
	requireDigits(t, "30000", got[0].Exec.StopPrice)
	assert.Equal(t, schema.ExecNew, got[0].Exec.ExecType)
}

func okxFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "okx", name+".json"))
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// An algo push whose envelope does not decode is a lost execution report:
// a gap marker of EventExecReport, as for the orders channel (contract 3).
func TestS33OKXAlgoFrameLost(t *testing.T) {
	for _, ch := range []string{"orders-algo", "algo-advance"} {
		frame := okxAlgo(ch, "effective")
		_, gaps := feedFrames(t, NewOKX, nil, []string{frame[:len(frame)-40]}, schema.EventGap)
		require.Len(t, gaps, 1, ch)
		assert.Equal(t, schema.EventExecReport, gaps[0].Control.GapType, ch)
	}
}
