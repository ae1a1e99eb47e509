package meltica_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// Contract 4 (DESIGN.md): coalescable events are "latest-wins per key
// (venue, symbol, type)"; dispatch/doc.go adds the view: "a kline's
// interval (schema.Kline.Interval), so that Binance's 1 m and 1 h candles
// coalesce apart". A subscriber held still while Binance (its own
// layouts: "Individual Symbol Book Ticker", "Kline/Candlestick",
// USDⓈ-M "Mark Price Stream") sends 50 updates of each of six streams —
// quotes of two symbols, live 1 m and 1 h candles, mark price and
// funding rate — sees, once released, the latest of each stream, and
// never one older than one it saw before.
func TestS25ctLatestWinsPerStream(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	hold := make(chan struct{})
	var mu sync.Mutex
	last := map[string]string{}
	var older []string
	_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		<-hold
		var key, val string
		switch ev.Type {
		case schema.EventBBO:
			key, val = "bbo "+ev.Symbol, fmt.Sprintf("%06d", ev.SeqProvider)
		case schema.EventKlineLive:
			key, val = "kline "+ev.Symbol+" "+ev.Kline.Interval, ev.Kline.Close.String()
		case schema.EventMarkPrice:
			key, val = "mark "+ev.Symbol, ev.Mark.MarkPrice.String()
		case schema.EventFundingRate:
			key, val = "funding "+ev.Symbol, ev.Mark.FundingRate.String()
		default:
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if prev, ok := last[key]; ok && len(prev) == len(val) && prev > val {
			older = append(older, key+": "+val+" after "+prev)
		}
		last[key] = val
	}})
	require.NoError(t, err)
	p := normalize.NewBinance(pools.Events, d, nil)
	for i := 100; i < 150; i++ {
		for _, m := range []string{
			`{"u":%[1]d,"s":"BTCUSDT","b":"1.00","B":"1","a":"1.01","A":"2"}`,
			`{"u":%[1]d,"s":"ETHUSDT","b":"1.00","B":"1","a":"1.01","A":"2"}`,
			`{"e":"kline","E":1700000000000,"s":"BTCUSDT","k":{"t":1700000000000,"T":1700000059999,"s":"BTCUSDT","i":"1m","f":1,"L":%[1]d,"o":"1.00","c":"%[1]d.00","h":"999.00","l":"1.00","v":"1","n":1,"x":false,"q":"1","V":"1","Q":"1","B":"0"}}`,
			`{"e":"kline","E":1700000000000,"s":"BTCUSDT","k":{"t":1699999200000,"T":1700002799999,"s":"BTCUSDT","i":"1h","f":1,"L":%[1]d,"o":"1.00","c":"%[1]d.50","h":"999.00","l":"1.00","v":"1","n":1,"x":false,"q":"1","V":"1","Q":"1","B":"0"}}`,
			`{"e":"markPriceUpdate","E":1700000000%[1]d,"s":"BTCUSDT","p":"%[1]d.00","i":"1.00","P":"1.00","r":"0.000%[1]d","T":1700006400000}`,
		} {
			require.NoError(t, p.HandleBytes(ctx, fmt.Appendf(nil, m, i), int64(i)))
		}
	}
	close(hold)
	want := map[string]string{
		"bbo BTC-USDT": "000149", "bbo ETH-USDT": "000149",
		"kline BTC-USDT 1m": "149.00", "kline BTC-USDT 1h": "149.50",
		"mark BTC-USDT": "149.00",
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for k, v := range want {
			if last[k] != v {
				return false
			}
		}
		return true
	}, time.Minute, time.Millisecond, "the latest of every stream")
	mu.Lock()
	t.Logf("last delivered: %v", last)
	assert.Empty(t, older, "an update older than one delivered before it")
	if f, ok := last["funding BTC-USDT"]; ok {
		assert.Equal(t, "0.000149", f, "the latest funding rate")
	}
	mu.Unlock()
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}
