package session_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// TestS32OnStatePanicRecovered: a host's OnState that panics on every
// call (a bug of the host's, on the connection's event goroutine) costs
// neither the program nor the session: the panic is recovered and
// counted (Stats.OnStatePanics), the session goes on following the
// connection (a reconnect logs in again), and execution reports reach
// OnExecReport, the new connection's too. Before s32sess the panic ended the program.
func TestS32OnStatePanicRecovered(t *testing.T) {
	for _, c := range privateCases(t) {
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, c.pushes)
			execs := make(chan *schema.ExecReport, 16)
			var calls atomic.Int64
			var now atomicTime
			now.set(time.Now())
			f.setServerClock(now.get) // the venue's clock moves with the test's
			cfg := c.config(f, now.get)
			cfg.OnExecReport = func(r *schema.ExecReport) { execs <- r }
			cfg.OnState = func(session.Conn, wsclient.Event) {
				calls.Add(1)
				panic("the host's bug")
			}
			s := start(t, cfg)
			t.Cleanup(func() { drainExecs(s, execs) })
			waitConnected(t, s)
			s.Pools().Execs.Put(recvExec(t, execs))
			require.Len(t, f.loginsSeen(), 1)
			now.set(now.get().Add(3 * time.Second)) // a newer login time
			f.dropAll()
			require.Eventually(t, func() bool { l := f.loginsSeen(); return len(l) == 2 && l[1].accepted }, generous, pollEvery,
				"the session follows the connection after OnState panicked: it logs in again")
			waitConnected(t, s)
			s.Pools().Execs.Put(recvExec(t, execs)) // the new connection's
			assert.Eventually(t, func() bool { return s.Stats().OnStatePanics == uint64(calls.Load()) }, generous, pollEvery,
				"each panic recovered and counted")
		})
	}
}
