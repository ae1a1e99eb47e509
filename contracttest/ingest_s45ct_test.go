package contracttest_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// README and DESIGN.md: no allocation from the socket to the dispatcher,
// and "your subscribers' copies of an event share one allocation" (dispatch
// doc, Inline delivery: a publish to N inline subscribers costs the slab
// and nothing else; Clones: one slab holds 595 copies of a trade or quote,
// 284 of an execution report). Venue messages from testdata — trades,
// quotes, fills — go through a Binance parser into a dispatcher: none
// allocates with no subscriber, each costs one allocation for 3 and for 284
// inline subscribers, and the fill a second one for 285.
func TestS45ctIngestAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	const runs = 300
	msgs := make([][]byte, 0, 3*(runs+1))
	for i := range runs + 1 {
		msgs = append(msgs,
			trade(t, 1+i, "67000.01", "BTCUSDT"),
			quote(t, 1+i, "67000.0"+strconv.Itoa(i%10), "BTCUSDT"),
			fill(t, 1+i))
	}
	measure := func(subscribers int) float64 {
		pools := schema.NewPools(nil)
		disp := dispatch.New(pools.Events, nil)
		var seen atomic.Int64
		for range subscribers {
			_, err := disp.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{
				Inline: true, Handler: func(*schema.CanonicalEvent) { seen.Add(1) }})
			require.NoError(t, err)
		}
		parser := normalize.NewBinance(pools.Events, disp, nil)
		ctx := context.Background()
		next := 0
		allocs := testing.AllocsPerRun(runs, func() {
			for range 3 {
				require.NoError(t, parser.HandleBytes(ctx, msgs[next], 1))
				next++
			}
		})
		st := parser.Stats()
		assert.Equal(t, uint64(3*(runs+1)), st.Events, "every message made an event: %+v", st)
		assert.Equal(t, int64(subscribers*3*(runs+1)), seen.Load())
		require.NoError(t, disp.Close(ctx))
		require.NoError(t, pools.Shutdown(ctx))
		return allocs / 3
	}
	assert.Zero(t, measure(0), "allocations a message, socket to dispatcher")
	assert.Equal(t, 1.0, measure(3), "allocations a message for three subscribers' copies")
	assert.Equal(t, 1.0, measure(344), "allocations a message for 344 subscribers' copies")
	assert.InDelta(t, 4.0/3, measure(345), 0.01, "345 copies of a fill take a second slab; a trade's and a quote's still one")
}

// Contract 7 (DESIGN.md; schema.Decimal): prices and quantities keep the
// digits the venue sent, trailing zeros included, through the whole
// pipeline to the subscriber.
func TestS45ctDecimalsKeepVenueDigits(t *testing.T) {
	p, conn := startPipeline(t, nil)
	got := make(chan *schema.CanonicalEvent, 2)
	sub, err := p.disp.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	defer func() { assert.NoError(t, p.disp.Unsubscribe(sub)) }()

	m := trade(t, 1, "67000.01000000", "BTCUSDT")
	m = withMember(t, m, "q", `"0.00860000"`)
	send(t, conn, m, sample(t, "binance_combined_bookTicker.json"))
	tr, bbo := <-got, <-got
	require.Equal(t, schema.EventTrade, tr.Type)
	assert.Equal(t, "67000.01000000", tr.Trade.Price.String())
	assert.Equal(t, "0.00860000", tr.Trade.Qty.String())
	require.Equal(t, schema.EventBBO, bbo.Type)
	assert.Equal(t, "0.35210000", bbo.BBO.BidPrice.String())
	assert.Equal(t, "672.00000000", bbo.BBO.BidQty.String())
	assert.Equal(t, "0.35260000", bbo.BBO.AskPrice.String())
	assert.Equal(t, "3199.00000000", bbo.BBO.AskQty.String())
}
