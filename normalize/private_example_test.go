package normalize_test

import (
	"context"
	"fmt"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// execSink prints each execution report (and gap marker) and returns it
// to its pool.
type execSink struct{ pools *schema.Pools }

func (s execSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	defer s.pools.Events.Put(ev)
	if ev.Type == schema.EventGap {
		fmt.Println(ev.Type, ev.Venue, ev.Symbol, ev.Control.GapType, ev.Control.GapCount)
		return nil
	}
	x := ev.Exec // an execution report carries it
	fmt.Println(ev.Type, ev.Venue, ev.Symbol, x.VenueOrderID, x.ExecType, x.Status, x.LastFillQty, "@", x.LastFillPrice, "fee", x.Fee, x.FeeAsset)
	return nil
}

// Execution reports of OKX's private orders channel, after a login made
// for this connection with OKXLogin.
func ExampleNewOKX_orders() {
	pools := schema.NewPools(nil)
	p := normalize.NewOKX(pools.Events, execSink{pools}, nil)
	ctx := context.Background()

	// A partial fill of a post-only buy; OKX's fillFee -0.0002 is a charge.
	_ = p.HandleBytes(ctx, []byte(`{"arg":{"channel":"orders","instType":"SPOT"},"data":[{"instId":"BTC-USDT","ordId":"3122","clOrdId":"b1","px":"30000.1","sz":"0.5","ordType":"post_only","side":"buy","fillPx":"30000.1","tradeId":"9","fillSz":"0.2","fillTime":"1700000000123","fillFee":"-0.0002","fillFeeCcy":"BTC","execType":"M","accFillSz":"0.2","avgPx":"30000.1","state":"partially_filled","cTime":"1700000000000","uTime":"1700000000124"}]}`), 1)
	// An order state OKX has not documented is refused, not guessed, and
	// announced: a gap marker of execution reports.
	err := p.HandleBytes(ctx, []byte(`{"arg":{"channel":"orders","instType":"SPOT"},"data":[{"instId":"BTC-USDT","ordId":"3122","state":"paused"}]}`), 1)
	fmt.Println(err)
	// Output:
	// exec_report okx BTC-USDT 3122 trade partially_filled 0.2 @ 30000.1 fee 0.0002 BTC
	// gap okx BTC-USDT exec_report 1
	// normalize: okx orders field state: normalize: unknown order status "paused"
}
