package session

import (
	"sync"
	"time"

	"github.com/meltica/meltica/schema"
)

// refusedReconcileEvery is the shortest time between two reconciliation
// passes started by execution reports the parser refused.
const refusedReconcileEvery = 30 * time.Second

// refusedLimit limits the reconciliations that refused execution
// reports start. The parser announces an execution report it refuses (a
// fill price it cannot read, a symbol its registry does not know) by a
// gap marker of GapType schema.EventExecReport (normalize/execloss.go, at
// most one a second, each counting the reports since the last); the
// report may be one of the session's orders, so a pass reconciles every
// open order, as after a gap in the connection's sequence. A venue that
// keeps sending reports the parser refuses — another product's orders of
// the same account on an all-in-one topic (Bybit's "execution" carries
// every category's) — would otherwise restart the pass every second
// (reconciler.subscribed cancels the running one) and spend the REST
// budget on it: one refused-report pass per refusedReconcileEvery, the
// markers in between only forwarded to the subscribers (who hear of each).
type refusedLimit struct {
	mu   sync.Mutex
	next time.Time
}

// refusedReport reports whether ev is a parser's marker of refused
// execution reports, and reconciles when the last such pass is old enough.
func (p *private) refusedReport(ev *schema.CanonicalEvent) bool {
	if c := ev.ControlOrZero(); ev.Type != schema.EventGap || c.GapType != schema.EventExecReport || c.GapSource != schema.GapVenue {
		return false
	}
	if p.rec == nil || !p.isReady() {
		return true
	}
	if p.recRefused.due(p.s.clock.now()) {
		p.rec.missed(p.frameConn)
	}
	return true
}

// due reports whether a refused-report pass may start at now, and if so
// counts it started.
func (l *refusedLimit) due(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) {
		return false
	}
	l.next = now.Add(refusedReconcileEvery)
	return true
}
