package meltica_test

import (
	"context"
	"fmt"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// The life of one event, without a network: the frame a wsclient reader
// would fill, the venue parser, the dispatcher, one subscriber's clone, and
// the leak check that every pooled object came back.
func Example() {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	got := make(chan *schema.CanonicalEvent, 1)
	_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	if err != nil {
		panic(err)
	}
	parser := normalize.NewBinance(pools.Events, d, nil) // the dispatcher is the parser's Sink

	// 1. The reader's frame: taken from its pool, filled in place.
	frame, err := pools.Frames.Get(ctx)
	if err != nil {
		panic(err)
	}
	frame.Provider, frame.ConnID, frame.Seq = schema.VenueBinance, 1, 1
	frame.Data = append(frame.Data[:0], `{"e":"trade","E":1700000000001,"s":"BTCUSDT","t":42,"p":"67000.01000000","q":"0.00100000","T":1700000000000,"m":true}`...)
	// 2. The parser decodes it into a pooled event and hands it to the sink;
	// 3. the dispatcher clones it for the subscriber and Puts the original.
	if err := parser.HandleFrame(ctx, frame); err != nil {
		panic(err)
	}
	pools.Frames.Put(frame) // the frame can go: nothing refers to its buffer

	// 4. The subscriber owns its clone; no pool accepts it.
	ev := <-got
	fmt.Println(ev.Type, ev.Symbol, ev.Trade.Side, ev.Trade.Qty, "@", ev.Trade.Price, "id", ev.Trade.ID.String())
	fmt.Println("clone from a pool:", ev.Pooled())

	fmt.Println("close:", d.Close(ctx))
	fmt.Println("leak check:", pools.Shutdown(ctx))
	// Output:
	// trade BTC-USDT sell 0.00100000 @ 67000.01000000 id 42
	// clone from a pool: false
	// close: <nil>
	// leak check: <nil>
}
