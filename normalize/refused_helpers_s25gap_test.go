package normalize

import (
	"strings"

	"github.com/meltica/meltica/schema"
)

// notRefused is evs without the gap markers of refused execution reports
// (execloss.go): what a test of a refused message asserts was not published
// besides the announcement.
func notRefused(evs []*schema.CanonicalEvent) []*schema.CanonicalEvent {
	var out []*schema.CanonicalEvent
	for _, ev := range evs {
		if ev.Type == schema.EventGap && ev.Control.GapType == schema.EventExecReport && strings.HasPrefix(ev.Control.Reason, "execution report refused: ") {
			continue
		}
		out = append(out, ev)
	}
	return out
}
