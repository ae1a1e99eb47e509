package session

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// Refused execution reports start one reconciliation pass per
// refusedReconcileEvery, whatever their rate; other markers are not theirs.
func TestS25gapRefusedReportsReconcileBounded(t *testing.T) {
	var l refusedLimit
	t0 := time.Unix(1_700_000_000, 0)
	passes := 0
	for i := range 120 { // two minutes of markers, one a second
		if l.due(t0.Add(time.Duration(i) * time.Second)) {
			passes++
		}
	}
	assert.Equal(t, 4, passes, "one pass per 30 s")

	p := &private{} // no reconciler: forwarded only
	refused := &schema.CanonicalEvent{Type: schema.EventGap, Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventExecReport}}
	assert.True(t, p.refusedReport(refused))
	connGap := &schema.CanonicalEvent{Type: schema.EventGap, Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventUnknown}}
	assert.False(t, p.refusedReport(connGap), "a connection sequence gap reconciles as before")
	queue := &schema.CanonicalEvent{Type: schema.EventGap, Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventExecReport, GapSource: schema.GapSubscriberQueue}}
	assert.False(t, p.refusedReport(queue))
}
