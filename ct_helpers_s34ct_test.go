package meltica_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// s34ctExecs is a venue parser whose sink keeps a copy of every event
// it publishes, in order: what a host's subscribers would receive.
type s34ctExecs struct {
	t      *testing.T
	pools  *schema.Pools
	parser *normalize.Parser
	mu     sync.Mutex
	events []*schema.CanonicalEvent
	ts     int64
}

func newS34ctExecs(t *testing.T, mk func(*schema.Pools, normalize.Sink) *normalize.Parser) *s34ctExecs {
	x := &s34ctExecs{t: t, pools: schema.NewPools(nil), ts: 1_700_000_000_000_000_000}
	x.parser = mk(x.pools, normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		x.mu.Lock()
		x.events = append(x.events, ev.Clone())
		x.mu.Unlock()
		x.pools.Events.Put(ev)
		return nil
	}))
	return x
}

// feed hands one venue message to the parser and returns its error.
func (x *s34ctExecs) feed(msg string) error {
	x.ts += 1_000_000
	return x.parser.HandleBytes(context.Background(), []byte(msg), x.ts)
}

// take returns the events published since the last take.
func (x *s34ctExecs) take() []*schema.CanonicalEvent {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := x.events
	x.events = nil
	return out
}

// one feeds msg, requires it normalised into exactly one execution
// report, and returns that report's Execution.
func (x *s34ctExecs) one(msg string) schema.Execution {
	x.t.Helper()
	require.NoError(x.t, x.feed(msg), "%s", msg)
	evs := x.take()
	var execs []schema.Execution
	for _, ev := range evs {
		if ev.Type == schema.EventExecReport {
			execs = append(execs, ev.Exec)
		}
	}
	require.Len(x.t, execs, 1, "exactly one execution report for %s; got %d events", msg, len(evs))
	return execs[0]
}
