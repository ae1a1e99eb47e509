package natsbridge

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS31OnStateHostFaults: OnState is host code run on a goroutine of
// the bridge's (and, for the first state, inside NewConsumer). A panic in
// it was not recovered: it ended the host process (or NewConsumer). A
// runtime.Goexit in it (t.FailNow in a test's callback) ended the watcher
// goroutine: no state of the NATS connection was published again, so a
// later link loss never marked the far side's streams stale. Recovered
// and logged; the watcher goes on after a Goexit.
func TestS31OnStateHostFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func()
	}{
		{"panic", func() { panic("host bug") }},
		{"Goexit", runtime.Goexit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			far := newNode(t)
			got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{"nats"}})
			states := make(chan StateEvent, 64)
			cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
				&ConsumerOptions{OnState: func(e StateEvent) {
					states <- e
					if tc.name == "panic" || e.State != schema.ConnConnected { // not on NewConsumer's goroutine: the test's
						tc.fault()
					}
				}})
			require.NoError(t, err)
			awaitState(t, states, schema.ConnConnected)
			srv.Stop()
			awaitState(t, states, schema.ConnDisconnected)
			awaitState(t, states, schema.ConnReconnecting) // the watcher went on
			for _, want := range []schema.ConnState{schema.ConnConnected, schema.ConnDisconnected, schema.ConnReconnecting} {
				for {
					ev := next(t, got, anyEvent)
					if ev.Type == schema.EventConnState {
						require.Equal(t, want, ev.Control.State)
						break
					}
				}
			}
			require.NoError(t, cons.Close(closeCtx(t)))
			far.close(t)
		})
	}
}
