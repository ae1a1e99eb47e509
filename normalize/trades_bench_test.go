package normalize

import (
	"context"
	"testing"

	"github.com/meltica/meltica/schema"
)

// BenchmarkTradeRepeats measures what the repeat check costs a trade, side
// by side in one run: the same parser with the check on and off, on new
// trades (increasing ids) and on repeats (one trade again and again).
// Compare the sub-benchmarks of one run only (benchstat).
func BenchmarkTradeRepeats(b *testing.B) {
	for _, check := range []bool{false, true} {
		for _, repeat := range []bool{false, true} {
			name := "check=off"
			if check {
				name = "check=on"
			}
			name += map[bool]string{false: "/new", true: "/repeat"}[repeat]
			b.Run(name, func(b *testing.B) {
				events := schema.NewPools(nil).Events
				p := NewBinance(events, &putSink{events: events}, nil)
				spec := *p.spec
				spec.tradeIDs = check
				p.spec = &spec
				const n = 1024
				msgs := make([][]byte, n)
				for i := range msgs {
					id := i + 1
					if repeat {
						id = 1
					}
					msgs[i] = []byte(bnTradeFrame("trade", "t", id))
				}
				ctx := context.Background()
				_ = p.HandleBytes(ctx, msgs[0], 1)
				b.SetBytes(int64(len(msgs[0])))
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					if !repeat && i > 0 && i%n == 0 {
						p.trades = nil // start the ids again: every trade new
					}
					if err := p.HandleBytes(ctx, msgs[i%n], 1); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
