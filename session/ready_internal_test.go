package session

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestSetReadyBothConnections: Bybit's private channels' connection and its
// trade connection log in on workers of their own and may become ready at
// the same moment. Whichever tells the board last must find both ready:
// orders may go. (Each read the other's readiness before taking the
// board's lock, so the one that read "not ready" could write its stale
// false after the other's true, and Place waited for a connection that was
// ready: "order connection not ready" on a loaded machine.)
func TestSetReadyBothConnections(t *testing.T) {
	for i := range 5000 {
		s := &Session{state: newStateBoard(0, true)}
		s.state.ordersState = schema.ConnConnected
		p := &private{s: s}
		p.trade = &private{s: s, isTrade: true}
		s.private = p
		var start, done sync.WaitGroup
		start.Add(1)
		for _, c := range []*private{p, p.trade} {
			done.Go(func() {
				start.Wait()
				c.setReady(true)
			})
		}
		start.Done()
		done.Wait()
		require.True(t, s.privateReady())
		require.True(t, s.state.ordersReady, "run %d: both connections ready, the board says orders wait", i)
	}
}
