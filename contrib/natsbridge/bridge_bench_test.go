package natsbridge

import (
	"context"
	"testing"
	"time"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// BenchmarkBridge measures events/s and allocations per event (all
// goroutines counted) from Publish on the ingest node's dispatcher to a
// subscriber of the far node's dispatcher, through publisher → NATS
// (loopback, embedded server) → consumer, next to the local dispatcher alone
// (Publish → subscriber) on the same trades.
//
//	go test -run '^$' -bench Bridge -benchtime 200000x ./
func BenchmarkBridge(b *testing.B) {
	b.Run("local", func(b *testing.B) {
		n := newNode(b)
		run(b, n, n)
		n.close(b)
	})
	b.Run("nats", func(b *testing.B) {
		srv := startServer(b)
		ingest, far := newNode(b), newNode(b)
		pub, err := NewPublisher(waitCtx(b), connect(b, srv.ClientURL(), nil), ingest.d,
			&PublisherOptions{Lanes: dispatch.SubscribeOptions{OrderedBound: 1 << 16}})
		if err != nil {
			b.Fatal(err)
		}
		cons, err := NewConsumer(waitCtx(b), connect(b, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
		if err != nil {
			b.Fatal(err)
		}
		run(b, ingest, far)
		b.StopTimer()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := cons.Close(ctx); err != nil {
			b.Fatal(err)
		}
		if err := pub.Close(ctx); err != nil {
			b.Fatal(err)
		}
		ingest.close(b)
		far.close(b)
		b.ReportMetric(float64(cons.Stats().Lost), "lost")
	})
}

// run publishes b.N trades on in and waits until a subscriber of out has
// received each one, or a gap marker counting it.
func run(b *testing.B, in, out *node) {
	done := make(chan struct{})
	finished := done
	var seen uint64
	want := uint64(b.N)
	_, err := out.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade, schema.EventGap}},
		&dispatch.SubscribeOptions{OrderedBound: 1 << 16, Handler: func(ev *schema.CanonicalEvent) {
			if ev.Type == schema.EventGap {
				seen += ev.Control.GapCount
			} else {
				seen++
			}
			if seen >= want && done != nil {
				close(done)
				done = nil
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	price, qty := schema.MustParseDecimal("65000.10000000"), schema.MustParseDecimal("0.00120000")
	ctx := context.Background()
	publish := func(i int) {
		ev, err := in.pools.Events.Get(ctx)
		if err != nil {
			b.Fatal(err)
		}
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, uint64(i+1)
		ev.ExchangeTS, ev.IngestTS = int64(i), int64(i)
		ev.Trade.ID.SetUint(uint64(i + 1))
		ev.Trade.Price, ev.Trade.Qty, ev.Trade.Side = price, qty, schema.SideBuy
		if err := in.d.Publish(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		publish(i)
	}
	// Trades lost at the very end of the run show only as the gap before a
	// later trade: keep publishing until everything is accounted for.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	timeout := time.After(time.Minute)
	for i := b.N; ; i++ {
		select {
		case <-finished:
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
			return
		case <-tick.C:
			publish(i)
		case <-timeout:
			b.Fatal("the events did not all arrive")
		}
	}
}
