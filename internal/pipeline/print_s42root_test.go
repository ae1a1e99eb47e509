package pipeline

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// TestS42rootDescribeEventWithoutItsSection: Describe prints every event a
// feed or a host hands it, and since issue #15 a gap marker or control
// event's Control is a pointer that is nil unless the event carries it. An
// event without it prints its head and a zero kind, and does not panic; one
// with it prints its kind and reason.
func TestS42rootDescribeEventWithoutItsSection(t *testing.T) {
	for _, typ := range []schema.EventType{schema.EventGap, schema.EventControl} {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: typ}
		var line string
		assert.NotPanics(t, func() { line = Describe(ev) }, "%v without Control", typ)
		assert.Contains(t, line, "BTC-USDT")
		assert.Contains(t, line, typ.String())

		ev.Control = &schema.Control{Kind: schema.ControlGap, Reason: "sequence skipped"}
		line = Describe(ev)
		assert.Contains(t, line, schema.ControlGap.String())
		assert.Contains(t, line, "sequence skipped")
	}
}
