package natsbridge

import (
	"context"
	"testing"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// BenchmarkS33rvnatsExecPublish: what publishExec's own goroutine per
// durable message (hostCall) adds to the dispatcher's Publish of an
// execution report with one subscriber: "direct" calls Publish on the
// caller's goroutine (as before s33nats), "hostCall" as publishExec does.
// Run both in one run:
//
//	go test -run '^$' -bench S33rvnatsExecPublish -benchmem -count 6 ./contrib/natsbridge/
func BenchmarkS33rvnatsExecPublish(b *testing.B) {
	for _, mode := range []string{"direct", "hostCall"} {
		b.Run(mode, func(b *testing.B) {
			n := newNode(b)
			_, err := n.d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				ev, err := n.pools.Events.Get(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventExecReport
				if mode == "direct" {
					err = n.d.Publish(context.Background(), ev)
				} else if p, _ := hostCall(func() { err = n.d.Publish(context.Background(), ev) }); p != nil {
					panic(p)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			n.close(b)
		})
	}
}
