package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// TestS27OrderRate: OKX's order rate (60 requests per 2 s per instrument
// and operation) is kept before sending: the 61st place of an instrument
// within 2 s waits until the oldest leaves the span; another instrument,
// or a cancel, has its own count; a ctx that ends while waiting takes no
// place.
func TestS27OrderRate(t *testing.T) {
	clk := &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(1000, 0)}
	o := newOrderRate(venues[schema.VenueOKX].orderRate.n, venues[schema.VenueOKX].orderRate.per, clk)
	require.NotNil(t, o)
	place := &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USDT"}
	ctx := context.Background()
	for range 60 {
		require.NoError(t, o.wait(ctx, place))
		clk.now = clk.now.Add(10 * time.Millisecond) // 60 in 0.6 s
	}
	assert.Empty(t, clk.slept, "60 in the span: none waits")
	require.NoError(t, o.wait(ctx, &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "ETH-USDT"}))
	require.NoError(t, o.wait(ctx, &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USDT"}))
	assert.Empty(t, clk.slept, "another instrument, another operation: counts of their own")

	require.NoError(t, o.wait(ctx, place))
	require.Len(t, clk.slept, 1, "the 61st waits")
	assert.Equal(t, 1400*time.Millisecond, clk.slept[0], "until the first of the 60 is 2 s old")

	ended, cancel := context.WithCancel(ctx)
	cancel()
	o = newOrderRate(1, time.Hour, endedSleep{wsclient.SystemClock()})
	require.NoError(t, o.wait(ended, place))
	assert.ErrorIs(t, o.wait(ended, place), context.Canceled, "a ctx ended while waiting")
	assert.Len(t, o.sent[orderRateKey{action: schema.ActionPlace, symbol: "BTC-USDT"}], 1, "took no place")

	assert.Nil(t, newOrderRate(0, 0, clk), "no rate: none kept")
	assert.NoError(t, (*orderRate)(nil).wait(ctx, place))
	assert.Zero(t, venues[schema.VenueBinance].orderRate.n, "Binance: the unfilled order count is the venue's (fills lower it): not counted here")
}

// endedSleep is a clock whose Sleep returns ctx's error.
type endedSleep struct{ wsclient.Clock }

func (endedSleep) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }
