package session_test

import (
	"testing"
	"time"

	"github.com/meltica/meltica/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestS37rvnormCoinbaseReconnectSnapshotRestates: on a Coinbase loopback
// peer whose user channel's snapshot holds one open order, the first
// connection's snapshot reports it (ExecNew); when the venue drops the
// connection, the new connection's snapshot of the same order, unchanged,
// reaches the host as ExecOrderStatus (where it stands: FIX ExecType I),
// not a second ExecNew, and is no fill. Before 6249bd5 landed (s37rvnorm)
// the host got ExecNew twice.
func TestS37rvnormCoinbaseReconnectSnapshotRestates(t *testing.T) {
	c := privateCases(t)[3]
	require.Equal(t, schema.VenueCoinbase, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	var now atomicTime
	now.set(time.Now())
	f.setServerClock(now.get)
	execs := make(chan *schema.ExecReport, 16)
	cfg := c.config(f, now.get)
	cfg.OnExecReport = func(r *schema.ExecReport) { execs <- r }
	s := start(t, cfg)
	t.Cleanup(func() { drainExecs(s, execs) })
	waitConnected(t, s)

	r := recvExec(t, execs)
	first := r.Execution
	s.Pools().Execs.Put(r)
	assert.Equal(t, schema.ExecNew, first.ExecType)
	assert.Equal(t, schema.StatusNew, first.Status)

	now.set(now.get().Add(3 * time.Second))
	f.dropAll()
	require.Eventually(t, func() bool {
		l := f.loginsSeen()
		return len(l) >= 2 && l[len(l)-1].accepted
	}, generous, pollEvery)
	r = recvExec(t, execs)
	again := r.Execution
	s.Pools().Execs.Put(r)
	assert.Equal(t, schema.ExecOrderStatus, again.ExecType, "the reconnect's snapshot of the unchanged order")
	assert.Equal(t, first.VenueOrderID, again.VenueOrderID)
	assert.Equal(t, first.Status, again.Status)
	assert.True(t, again.LastFillQty.IsZero(), "no fill")
}
