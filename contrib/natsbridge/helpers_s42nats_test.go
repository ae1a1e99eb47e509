package natsbridge

import "github.com/meltica/meltica/schema"

// reasonOf is ev's Control.Reason for a failure message, "" when ev
// carries no Control (an execution report).
func reasonOf(ev *schema.CanonicalEvent) string {
	if ev.Control == nil {
		return ""
	}
	return ev.Control.Reason
}
