package normalize

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/meltica/meltica/schema"
)

// BenchmarkS31Caps measures a Binance trade carrying one unknown member
// of each worst shape a venue could send, at sizes 1x, 3x and 9x (deep
// nesting also just past goccy's depth cap of 10,000): the parser's cost
// must grow linearly with the member's size, a refused message included.
//
// Measured (S31, load 19–25): arrays and objects nested 1,000 → 9,990
// deep cost 10–11x (linear); 10,000 and 20,000 cost the same (~3–5 ms,
// 2.2 MB, 73 allocations), refused at the cap by goccy, which re-reads
// the input with jsontext to place the error (v2 errorInput.place):
// goccy's, bounded by the cap. An object of many unknown members costs
// ~500 ns a name in goccy's duplicate-name check (a map past 32 names,
// grown as it fills; ~9 ns a name with duplicates allowed), twice (the
// envelope's pass, then the message's): superlinear in goccy's map, not
// in our code. Long strings and long arrays are linear.
//
//	go test ./normalize/ -run '^$' -bench S31Caps -benchmem -count 6
func BenchmarkS31Caps(b *testing.B) {
	shapes := []struct {
		name string
		of   func(n int) string
		ns   []int
	}{
		{"arrays", func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }, []int{1000, 3000, 9000, 9990, 10000, 20000}},
		{"objects", func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }, []int{1000, 3000, 9000, 9990, 10000}},
		{"members", func(n int) string {
			var s strings.Builder
			s.WriteByte('{')
			for i := range n {
				fmt.Fprintf(&s, `"k%d":1,`, i)
			}
			s.WriteString(`"z":1}`)
			return s.String()
		}, []int{1000, 3000, 9000}},
		{"array_elems", func(n int) string { return "[" + strings.Repeat("1,", n) + "1]" }, []int{10000, 30000, 90000}},
		{"string", func(n int) string { return `"` + strings.Repeat("a", n) + `"` }, []int{10000, 30000, 90000}},
	}
	for _, sh := range shapes {
		for _, n := range sh.ns {
			msg := []byte(`{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true,"zz":` + sh.of(n) + `}`)
			b.Run(fmt.Sprintf("%s/%d", sh.name, n), func(b *testing.B) {
				events := schema.NewPools(nil).Events
				p := NewBinance(events, &putSink{events: events}, nil)
				ctx := context.Background()
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					_ = p.HandleBytes(ctx, msg, int64(i+1))
				}
			})
		}
	}
}
