package schema_test

import (
	"testing"

	"github.com/meltica/meltica/schema"
)

// BenchmarkEventReset is the pool cycle's Reset of a CanonicalEvent: every
// section is zeroed whatever Type says (issue 15 asks for clearing only
// what was set: not done, as a section written beside Type's would then
// survive into the next use).
func BenchmarkEventReset(b *testing.B) {
	e := &schema.CanonicalEvent{}
	b.ReportAllocs()
	for b.Loop() {
		e.Type = schema.EventTrade
		e.Trade.Side = schema.SideBuy
		e.Reset()
	}
}
