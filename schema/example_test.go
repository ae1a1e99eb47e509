package schema_test

import (
	"context"
	"fmt"

	"github.com/meltica/meltica/schema"
)

func ExampleDecimal() {
	price := schema.MustParseDecimal("0.10000000") // digits kept, trailing zeros too
	qty := schema.MustParseDecimal("2.5")
	notional, err := price.Mul(qty)
	if err != nil {
		panic(err)
	}
	fmt.Println(price, qty, notional)
	fmt.Println(price.Equal(schema.MustParseDecimal("0.1")), price.Identical(schema.MustParseDecimal("0.1")))
	_, err = schema.ParseDecimal("NaN")
	fmt.Println(err)
	// Output:
	// 0.10000000 2.5 0.250000000
	// true false
	// schema: decimal is NaN or infinite: "NaN"
}

func ExampleEventType() {
	for _, t := range []schema.EventType{schema.EventExecReport, schema.EventBBO, schema.EventTrade} {
		fmt.Println(t, "critical:", t.Critical(), "coalescable:", t.Coalescable())
	}
	// Output:
	// exec_report critical: true coalescable: false
	// bbo critical: false coalescable: true
	// trade critical: false coalescable: false
}

func ExampleCanonicalEvent_Clone() {
	pools := schema.NewPools(nil)
	ev, _ := pools.Events.Get(context.Background())
	ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventTrade
	ev.Trade.Price = schema.MustParseDecimal("67321.45000000")

	c := ev.Clone()      // an independent heap copy: the subscriber's to keep
	pools.Events.Put(ev) // the original goes back at once
	fmt.Println(c.Symbol, c.Trade.Price, c.Pooled())
	// Output:
	// BTC-USDT 67321.45000000 false
}

func ExampleOrderRequest_Validate() {
	o := &schema.OrderRequest{Symbol: "BTC-USDT", Side: schema.SideBuy, Type: schema.OrderTypeLimit, Qty: schema.MustParseDecimal("0.01")}
	fmt.Println(o.Validate())
	o.Price = schema.MustParseDecimal("60000")
	fmt.Println(o.Validate())
	// Output:
	// schema: invalid OrderRequest.Price: limit orders need a positive price
	// <nil>
}

// Orders must be rounded to the venue's tick and step sizes; the rounding
// mode is explicit.
func ExampleDecimal_RoundToStep() {
	tick, step := schema.MustParseDecimal("0.05"), schema.MustParseDecimal("0.00001000")
	price, _ := schema.MustParseDecimal("67321.47").RoundToStep(tick, schema.RoundFloor) // a buy: not above
	budget := schema.MustParseDecimal("100")
	qty, _ := budget.Div(price, 8, schema.RoundDown)
	qty, _ = qty.RoundToStep(step, schema.RoundDown) // never more than the budget buys
	fmt.Println(price, qty)
	// Output:
	// 67321.45 0.00148000
}
