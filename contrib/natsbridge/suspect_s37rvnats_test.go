package natsbridge

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS37rvnatsOverCountForgottenOncePassed: what NumPending says was
// removed and the stream did not confirm (an over-count, nats-server#2357,
// #5655) was kept for ever (until a redelivery or a resume): a Consumer of
// some subjects read the next sequence the stream no longer held — here
// another venue's report deleted much later — as that loss, a false gap
// marker (the host reconciles every order on it). A report removed past
// the delivery that told of it was stored then: at most the stream's last
// sequence at that time. Once deliveries have passed it, what is left
// unconfirmed is forgotten.
func TestS37rvnatsOverCountForgottenOncePassed(t *testing.T) {
	js, ingest, pub, far, got, cons := firstOverCounted(t, "s37rvsuspect", []string{"meltica.binance.>"})
	st, err := js.Stream(waitCtx(t), DefaultStream)
	require.NoError(t, err)
	for i := range 3 {
		ev := next(t, got, func(ev *schema.CanonicalEvent) bool { return ev.Type != schema.EventConnState })
		require.Equal(t, strconv.Itoa(1000+i), ev.Exec.TradeID.String(), "%s %s", ev.Type, reasonOf(ev))
	}
	// Later, another venue's report (stream sequence 4) is stored and
	// deleted, then the venue's next report (5) comes.
	ingest.publish(t, func(ev *schema.CanonicalEvent) { execReport(9)(ev); ev.Venue = schema.VenueOKX })
	eventually(t, func() bool {
		info, err := st.Info(waitCtx(t))
		return err == nil && info.State.LastSeq == 4
	}, "the other venue's report stored")
	require.NoError(t, st.DeleteMsg(waitCtx(t), 4))
	ingest.publish(t, execReport(3))
	ev := next(t, got, func(ev *schema.CanonicalEvent) bool { return ev.Type != schema.EventConnState })
	require.Equal(t, schema.EventExecReport, ev.Type, "nothing of the venue's was removed: %s", reasonOf(ev))
	require.Equal(t, "1003", ev.Exec.TradeID.String())
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	stats := cons.Stats()
	require.Zero(t, stats.ExecLost, "%+v", stats)
	require.Equal(t, uint64(4), stats.ExecDelivered, "%+v", stats)
	ingest.close(t)
	far.close(t)
}
