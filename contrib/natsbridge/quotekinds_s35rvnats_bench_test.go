package natsbridge

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/meltica/meltica/schema"
)

// BenchmarkS35rvnatsNoteQuoteKind measures what noting a quote's kind
// (noteQuoteKind, now called at every quote on the Publisher's delivery
// goroutine; before only at a stream's first message) adds per quote: a
// run of one kind (a comparison), kinds interleaved (lostMu, uncontended,
// and the LRU's touch each quote), and more kinds than the bound (each
// quote forgets one).
//
//	go test -run '^$' -bench S35rvnatsNoteQuoteKind -benchmem -count 6 ./
func BenchmarkS35rvnatsNoteQuoteKind(b *testing.B) {
	for _, n := range []int{1, 2, 5, 40, 2 * maxQuoteKinds} {
		b.Run(fmt.Sprintf("kinds=%d", n), func(b *testing.B) {
			p := &Publisher{log: slog.New(slog.DiscardHandler)}
			kinds := make([]streamKey, n)
			types := []schema.EventType{schema.EventBBO, schema.EventTicker, schema.EventMarkPrice}
			for i := range kinds {
				kinds[i] = streamKey{venue: schema.Venue(fmt.Sprintf("v%05d", i/len(types))), typ: types[i%len(types)]}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				k := kinds[i%n]
				p.noteQuoteKind(k.venue, k.typ)
			}
		})
	}
}
