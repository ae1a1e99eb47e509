package natsbridge

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS40natsCappedPullStillWaits: an operator's durable consumer with
// MaxRequestBatch 2 caps the Consume's pull at 2 reports, no more than
// MaxAckPending (2): once both were delivered, and are in the Consumer's
// hands, no pull waited on the server (NumWaiting 0). A second Consumer
// started on the Durable then took the live one for a dead predecessor
// (resetPredecessors) and reset the durable consumer: the reports in the
// live one's hands came to it too. MaxAckPending is kept under the pull's
// cap (here 1), so that a pull always waits while reports are in hand.
func TestS40natsCappedPullStillWaits(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 1)
	_, err := js.CreateConsumer(waitCtx(t), DefaultStream, jetstream.ConsumerConfig{Durable: "s40capped",
		AckPolicy: jetstream.AckExplicitPolicy, MaxRequestBatch: 2})
	require.NoError(t, err)
	opts := ConsumerOptions{Durable: "s40capped", MaxAckPending: 2, AckWait: time.Hour}
	far, got, live := reportInHand(t, srv.ClientURL(), nil, opts)
	ingest.publish(t, execReport(1))
	jc, err := js.Consumer(waitCtx(t), DefaultStream, "s40capped")
	require.NoError(t, err)
	eventually(t, func() bool {
		info, err := jc.Info(waitCtx(t))
		return err == nil && info.NumAckPending == info.Config.MaxAckPending && info.NumAckPending+int(info.NumPending) == 2
	}, "as many reports delivered as MaxAckPending lets")

	second := newNode(t)
	other := second.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	var log logBuf
	opts.Logger = log.logger()
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), second.d, second.pools.Events, &opts)
	require.NoError(t, err)
	require.Zero(t, cons.Stats().ExecResumed, "the live Consumer's reports reset")
	require.Len(t, log.lines("level=WARN", "another Consumer reads the durable consumer"), 1)

	far.release()
	seen := map[string]int{}
	for seen["1000"]+seen["1001"] < 2 {
		select {
		case ev := <-got:
			seen[ev.Exec.TradeID.String()]++
		case ev := <-other:
			seen[ev.Exec.TradeID.String()]++
		case <-time.After(generous):
			require.Fail(t, "timed out", "%v", seen)
		}
	}
	require.Equal(t, 1, seen["1000"], "report 0, in the live one's hands, to the second too: %v", seen)
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	require.NoError(t, live.Close(closeCtx(t)))
	ingest.close(t)
	second.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}

// TestS40natsAckPendingWithin: MaxAckPending under each cap of the pull.
func TestS40natsAckPendingWithin(t *testing.T) {
	info := func(cfg jetstream.ConsumerConfig) *jetstream.ConsumerInfo {
		return &jetstream.ConsumerInfo{Config: cfg}
	}
	for _, tc := range []struct {
		name   string
		info   *jetstream.ConsumerInfo
		maxAck int
		want   int
	}{
		{"no info", nil, 4, 4},
		{"no limits", info(jetstream.ConsumerConfig{}), 4, 4},
		{"server defaults", info(jetstream.ConsumerConfig{MaxWaiting: 512}), 1, 1},
		{"MaxRequestBatch at MaxAckPending", info(jetstream.ConsumerConfig{MaxRequestBatch: 4}), 4, 3},
		{"MaxRequestBatch past MaxAckPending", info(jetstream.ConsumerConfig{MaxRequestBatch: 5}), 4, 4},
		{"MaxWaiting under MaxAckPending", info(jetstream.ConsumerConfig{MaxWaiting: 2}), 4, 1},
		{"MaxRequestBatch 1", info(jetstream.ConsumerConfig{MaxRequestBatch: 1}), 4, 1},
	} {
		require.Equal(t, tc.want, ackPendingWithin(tc.info, tc.maxAck), tc.name)
	}
}
