package natsbridge

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS40rvnatsCloseRacesRefusalRestart: Close while the resumer restarts
// a Consume refused for a limit (TestS40natsRefusalKeepsBufferedReports):
// wherever Close finds it — stopping the old Consume, reading the durable
// consumer, resetting it to its ack floor, starting the new Consume —
// Close returns within its ctx, no goroutine is left (goleak, TestMain),
// and every report the closed Consumer did not hand on comes to the next
// Consumer on the Durable at once (AckWait 1 h: one left delivered and
// unacknowledged would not come within the test's wait). "after the
// stop" closes once the old Consume is stopped, with report 0 still in
// hand, so that the resumer ends before its reset: reports 1 and 2,
// dropped with the old Consume, wait for acks, and the next Consumer
// resets the durable consumer at start (resetPredecessors: it failed
// without). "racing" closes as the resumer runs, wherever it is.
func TestS40rvnatsCloseRacesRefusalRestart(t *testing.T) {
	t.Run("after the stop", func(t *testing.T) { closeRacesRefusal(t, true) })
	t.Run("racing", func(t *testing.T) { closeRacesRefusal(t, false) })
}

func closeRacesRefusal(t *testing.T, afterStop bool) {
	srv, ingest, pub, far, got, cons, refusal := refusedBehindInHand(t, "s40rvclose")
	subs := cons.nc.NumSubscriptions()
	cons.execTrouble(refusal)
	if afterStop {
		eventually(t, func() bool { return cons.nc.NumSubscriptions() < subs }, "the old Consume stopped")
		closed := make(chan error, 1)
		ctx := closeCtx(t)
		go func() { closed <- cons.Close(ctx) }()
		eventually(t, cons.closed.Load, "Close begun")
		far.release()
		select {
		case err := <-closed:
			require.NoError(t, err)
		case <-time.After(generous):
			require.Fail(t, "Close hangs")
		}
	} else {
		far.release()
		require.NoError(t, cons.Close(closeCtx(t)))
	}
	require.NoError(t, far.d.Close(closeCtx(t))) // what it took is in got

	seen := map[string]int{}
	for {
		select {
		case ev := <-got:
			seen[ev.Exec.TradeID.String()]++
			continue
		default:
		}
		break
	}
	host := newNode(t)
	other := host.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons2, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), host.d, host.pools.Events,
		&ConsumerOptions{Durable: "s40rvclose", MaxAckPending: 3, AckWait: time.Hour})
	require.NoError(t, err)
	for _, id := range []string{"1000", "1001", "1002"} {
		if seen[id] > 0 {
			continue
		}
		for seen[id] == 0 {
			select {
			case ev := <-other:
				seen[ev.Exec.TradeID.String()]++
			case <-time.After(generous):
				require.Fail(t, "a report held", "%s: %v", id, seen)
			}
		}
	}
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons2.Close(closeCtx(t)))
	ingest.close(t)
	host.close(t)
}
