package natsbridge_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/meltica/meltica/contrib/natsbridge"
	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// An execution report published on the ingest node's dispatcher reaches a
// strategy host's dispatcher through NATS JetStream, digits and ids intact.
// The server here is embedded; a host gives Connect its cluster's URLs.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "natsbridge-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	srv, err := embedded.Start(dir, 0)
	if err != nil {
		panic(err)
	}
	defer srv.Stop()

	// Ingest node: its dispatcher, and a Publisher subscribed to it.
	ingestPools := schema.NewPools(nil)
	ingest := dispatch.New(ingestPools.Events, nil)
	ncIngest, err := natsbridge.Connect(srv.ClientURL(), nil)
	if err != nil {
		panic(err)
	}
	defer ncIngest.Close()
	pub, err := natsbridge.NewPublisher(ctx, ncIngest, ingest, nil)
	if err != nil {
		panic(err)
	}

	// Strategy host: its own pools and dispatcher, fed by a Consumer.
	hostPools := schema.NewPools(nil)
	host := dispatch.New(hostPools.Events, nil)
	got := make(chan string, 1)
	_, err = host.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, &dispatch.SubscribeOptions{
		Handler: func(ev *schema.CanonicalEvent) {
			got <- fmt.Sprintf("%s %s %s %s: %s filled %s of the order so far",
				ev.Venue, ev.Symbol, ev.Exec.ClientOrderID.String(), ev.Exec.ExecType, ev.Exec.Status, ev.Exec.CumFillQty)
		},
	})
	if err != nil {
		panic(err)
	}
	ncHost, err := natsbridge.Connect(srv.ClientURL(), nil)
	if err != nil {
		panic(err)
	}
	defer ncHost.Close()
	cons, err := natsbridge.NewConsumer(ctx, ncHost, host, hostPools.Events, &natsbridge.ConsumerOptions{
		Durable:  "strategy-a",
		Subjects: []string{"meltica.binance.>"},
	})
	if err != nil {
		panic(err)
	}

	ev, err := ingestPools.Events.Get(ctx)
	if err != nil {
		panic(err)
	}
	ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventExecReport
	ev.UseExec().ClientOrderID = schema.MustID("order-1")
	ev.UseExec().VenueOrderID = schema.MustID("778899")
	ev.UseExec().ExecType, ev.UseExec().Status = schema.ExecTrade, schema.StatusPartiallyFilled
	ev.UseExec().TradeID.SetUint(1000)
	ev.UseExec().CumFillQty = schema.MustParseDecimal("0.00100000")
	ev.UseExec().LastFillQty = schema.MustParseDecimal("0.00100000")
	ev.UseExec().TransactTime = 1_700_000_000_000_000_000
	if err := ingest.Publish(ctx, ev); err != nil { // the dispatcher owns ev now
		panic(err)
	}
	fmt.Println(natsbridge.Subject("meltica", schema.VenueBinance, "BTC-USDT", schema.EventExecReport))
	fmt.Println(<-got)

	// Shutdown, host first: consumer, dispatcher, pools (the leak check).
	fmt.Println(cons.Close(ctx), host.Close(ctx), hostPools.Shutdown(ctx))
	fmt.Println(ingest.Close(ctx), pub.Close(ctx), ingestPools.Shutdown(ctx))
	// Output:
	// meltica.binance.BTC-USDT.exec_report
	// binance BTC-USDT order-1 trade: partially_filled filled 0.00100000 of the order so far
	// <nil> <nil> <nil>
	// <nil> <nil> <nil>
}

// Subject is the routing key; the event itself carries the exact symbol.
func ExampleSubject() {
	fmt.Println(natsbridge.Subject("meltica", schema.VenueKraken, "BTC/USD", schema.EventBookUpdate))
	fmt.Println(natsbridge.Subject("meltica", schema.VenueOKX, "BTC.USDT", schema.EventTrade))
	fmt.Println(natsbridge.Subject("meltica", schema.VenueBinance, "", schema.EventConnState))
	// Output:
	// meltica.kraken.BTC/USD.book_update
	// meltica.okx.BTC_USDT.trade
	// meltica.binance._.conn_state
}
