package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Members a venue's docs do not promise in every message are not
// required: absent, the event goes out with the field zero (not sent).
// Bybit v5 "Ticker": options' tickers have no prevPrice24h or
// price24hPcnt; Binance "Mark Price Stream": "P" is "only useful in the
// last hour before the settlement starts", and on COIN-M "r": "" "will be
// shown for delivery symbol", "T": 0 likewise. Held before S29: pinned.
func TestS29MembersNotRequired(t *testing.T) {
	for _, c := range []struct {
		name  string
		venue schema.Venue
		msg   string
		check func(t *testing.T, ev *schema.CanonicalEvent)
	}{
		{"bybit ticker without prevPrice24h, price24hPcnt", schema.VenueBybit,
			`{"topic":"tickers.BTCUSDT","ts":1673853746003,"type":"snapshot","cs":2588407389,"data":{"symbol":"BTCUSDT","lastPrice":"21109.77","highPrice24h":"21426.99","lowPrice24h":"20575","volume24h":"6780.866843","turnover24h":"141946527.22907118"}}`,
			func(t *testing.T, ev *schema.CanonicalEvent) {
				requireDigits(t, "21109.77", ev.Ticker.Last)
				require.True(t, ev.Ticker.Open.IsZero())
				require.True(t, ev.Ticker.ChangePct.IsZero())
			}},
		{"binance markPriceUpdate without P, r, T", schema.VenueBinance,
			`{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","i":"11784.62659091"}`,
			func(t *testing.T, ev *schema.CanonicalEvent) {
				requireDigits(t, "11794.15000000", ev.Mark.MarkPrice)
				require.True(t, ev.Mark.FundingRate.IsZero())
				require.Zero(t, ev.Mark.NextFundingTime)
			}},
		{"binance COIN-M markPriceUpdate of a delivery symbol", schema.VenueBinance,
			`{"e":"markPriceUpdate","E":1596095725000,"s":"BTCUSD_201225","p":"10934.62615417","P":"10962.17178236","i":"10933.62615417","r":"","T":0}`,
			func(t *testing.T, ev *schema.CanonicalEvent) {
				requireDigits(t, "10934.62615417", ev.Mark.MarkPrice)
				requireDigits(t, "10962.17178236", ev.Mark.EstSettlePrice)
				require.True(t, ev.Mark.FundingRate.IsZero())
				require.Zero(t, ev.Mark.NextFundingTime)
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := newVenueParser(c.venue, events, sink)
			require.NoError(t, p.HandleBytes(context.Background(), []byte(c.msg), 1))
			require.Len(t, sink.got, 1)
			c.check(t, sink.got[0])
		})
	}
}
