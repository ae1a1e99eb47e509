package natsbridge

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// TestS49natsDeletedNoPullWaitingAtOnce: a durable consumer deleted while
// no pull of it waits on the server — its pull's cap (MaxRequestBatch 1,
// an operator's) taken by the report in hand — sends nothing to the
// Consume (no 409 "Consumer Deleted": no pull to release). Its next pull,
// once the report is handed on, reaches no one: nats.go hands the error
// handler nats.ErrNoResponders (503) and counts the pull as waiting,
// asking for nothing more until two heartbeats are missed (10 s).
// execTrouble ignored the 503: the report stream stalled until then,
// silently, and only ErrNoHeartbeat woke the resumer (report 1 came with
// execBeatsMissed 1). The 503 now reads as a Consume stopped: the resumer
// makes the consumer again at once, after report 0, and report 1 comes
// with no heartbeat missed.
func TestS49natsDeletedNoPullWaitingAtOnce(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 1)
	_, err := js.CreateConsumer(waitCtx(t), DefaultStream, jetstream.ConsumerConfig{Durable: "s49gone",
		AckPolicy: jetstream.AckExplicitPolicy, MaxRequestBatch: 1})
	require.NoError(t, err)
	far, got, cons := reportInHand(t, srv.ClientURL(), nil, ConsumerOptions{Durable: "s49gone", AckWait: time.Hour})
	jc, err := js.Consumer(waitCtx(t), DefaultStream, "s49gone")
	require.NoError(t, err)
	info, err := jc.Info(waitCtx(t))
	require.NoError(t, err)
	require.Zero(t, info.NumWaiting, "a pull waits with the report in hand: the deletion would release it (409)")

	require.NoError(t, js.DeleteConsumer(waitCtx(t), DefaultStream, "s49gone"))
	far.release()
	require.Equal(t, "1000", next(t, got, anyEvent).Exec.TradeID.String())
	ingest.publish(t, execReport(1))
	require.Equal(t, "1001", next(t, got, anyEvent).Exec.TradeID.String())
	require.Zero(t, cons.execBeatsMissed.Load(), "report 1 came only once the heartbeats were missed")

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	// Read once Close has waited for the resumer: the new Consume may
	// deliver report 1 before resume counts itself.
	require.Positive(t, cons.Stats().ExecResumed, "made again")
	require.Equal(t, uint64(2), cons.Stats().ExecDelivered)
	ingest.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}
