//go:build !race

package dispatch_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// Audit of issue 5 ("0 allocations with no subscriber; one allocation per
// subscriber clone is the target") and of the README's first paragraph:
// "your subscribers' copies of an event are one allocation per event for up
// to 138 of them" (135 since the event grew to 1,928 bytes; 585 since the
// compact event, 448 bytes, #15; 595 since it is 440, the pool's header
// three words; 697 since it is 376, a Decimal 9 bytes and the header two words). Counted through Publish with real subscriber goroutines
// (AllocsPerRun counts every goroutine's allocations); not under -race, whose
// detector allocates on its own.
func TestAuditPublishAllocations(t *testing.T) {
	for _, c := range []struct {
		subs int
		want float64
	}{{0, 0}, {1, 1}, {697, 1}, {698, 2}} {
		got := publishAllocs(t, c.subs, 200, func(ev *schema.CanonicalEvent, _ uint64) {
			ev.Type = schema.EventTrade
			ev.Trade.Price = schema.NewDecimal(6700001, 2)
			ev.Trade.Qty = schema.NewDecimal(1, 3)
		})
		assert.Equal(t, c.want, got, "%d subscribers", c.subs)
	}
}
