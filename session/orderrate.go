package session

import (
	"context"
	"sync"
	"time"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// orderRate keeps a venue's documented order request rate, per instrument
// and per operation: at most n requests in any span of per, counted as
// they are sent (OKX v5 "Trade → WebSocket Place order" and "WebSocket
// Cancel order": 60 requests per 2 seconds, "Rate limit rule: User ID +
// Instrument ID"; over it the venue refuses the request, 50011 "Rate
// limit reached"). A request over the rate waits, on the session's
// clock, for the oldest of the span to leave it, or for ctx: nothing is
// sent then. Safe for concurrent use. Memory is n times per (operation,
// instrument) sent a request in the last span: a key whose latest send
// left the span holds nothing the rate needs and is swept when the map
// has doubled since the last sweep (the symbols are the venue's listed
// ones, Session.checkRules refusing the others before the rate; the
// sweep bounds the map when the list is long and the host trades many).
// The times are the clock's Now; a clock stepped back makes those after
// its new now count as sent now (notAfter): a request then waits at most
// per, never the step.
type orderRate struct {
	n   int
	per time.Duration
	clk wsclient.Clock

	mu      sync.Mutex
	sent    map[orderRateKey][]time.Time // the latest n sends of each key, oldest first
	sweepAt int                          // len(sent) at which idle keys are swept
}

// minSweep is the size of the rate's map below which it is not swept.
const minSweep = 64

// sweep deletes the keys whose latest send left the span (caller holds
// o.mu).
func (o *orderRate) sweep(now time.Time) {
	for k, ts := range o.sent {
		if now.Sub(ts[len(ts)-1]) >= o.per {
			delete(o.sent, k)
		}
	}
	o.sweepAt = max(minSweep, 2*len(o.sent))
}

type orderRateKey struct {
	action schema.OrderAction
	symbol string
}

// newOrderRate returns the rate keeper of n requests per per; nil (none)
// when n is 0.
func newOrderRate(n int, per time.Duration, clk wsclient.Clock) *orderRate {
	if n <= 0 {
		return nil
	}
	return &orderRate{n: n, per: per, clk: clk, sent: map[orderRateKey][]time.Time{}}
}

// wait takes a place in the rate for req, waiting as long as the venue's
// rate requires; it returns ctx's error when ctx ends first (no place
// taken). A nil orderRate never waits.
func (o *orderRate) wait(ctx context.Context, req *schema.OrderRequest) error {
	if o == nil {
		return nil
	}
	key := orderRateKey{action: req.Action, symbol: req.Symbol}
	for {
		o.mu.Lock()
		now := o.clk.Now()
		ts, seen := o.sent[key]
		for i := len(ts) - 1; i >= 0 && now.Before(ts[i]); i-- {
			ts[i] = now // (oldest first: the loop stops at the first not after now)
		}
		if !seen && len(o.sent) >= max(o.sweepAt, minSweep) {
			o.sweep(now)
		}
		if len(ts) < o.n || now.Sub(ts[0]) >= o.per {
			if len(ts) == o.n {
				ts = append(ts[:0], ts[1:]...)
			}
			o.sent[key] = append(ts, now)
			o.mu.Unlock()
			return nil
		}
		d := o.per - now.Sub(ts[0])
		o.mu.Unlock()
		if err := o.clk.Sleep(ctx, d); err != nil {
			return err
		}
	}
}
