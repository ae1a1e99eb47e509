package normalize

import (
	"context"
	"testing"

	"github.com/meltica/meltica/schema"
)

// BenchmarkBinanceUserData is the cost of a user-data message through a
// Binance parser to a sink, side by side in one run: an order update
// parsed into an execution report, a conditional order's, an account
// update split into events, and TRADE_LITE skipped as ignored.
// cpu-ns/op is the benchmark thread's CPU time per message (see
// BenchmarkParse).
//
//	go test -run '^$' -bench BenchmarkBinanceUserData -benchmem -count 6 ./normalize/ | tee ud.txt
//	benchstat -filter '.unit:cpu-ns/op' ud.txt
func BenchmarkBinanceUserData(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"futures_order_fill_reduce", "algo_update", "account_update", "exec_partial", "trade_lite"} {
		msg := fixture(b, name)
		events := schema.NewPools(nil).Events
		p := NewBinance(events, &putSink{events: events}, nil)
		if err := p.HandleBytes(ctx, msg, 1); err != nil {
			b.Fatal(err)
		}
		b.Run("msg="+name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			defer cpuPerOp(b)()
			for range b.N {
				if err := p.HandleBytes(ctx, msg, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
