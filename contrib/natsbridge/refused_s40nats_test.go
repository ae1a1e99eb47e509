package natsbridge

import (
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/schema"
)

// TestS40natsRefusalKeepsBufferedReports: a pull refused for a limit
// ("Exceeded MaxRequestBatch", an operator's change under a running
// Consumer) makes the resumer stop the Consume and start another within
// the limits. nats.go's Stop drops what the old Consume had received and
// not yet handed to onExec — to the server those reports are delivered
// and waiting for their acks, and with MaxAckPending reports pending it
// delivers nothing more: they and every later one came only after
// AckWait (30 s by default; 1 h here: never within the test's wait).
// The refusal's error is the server's own (a pull past the limit made
// here by a Fetch: nats.go's checkMsg makes "nats: Exceeded
// MaxRequestBatch of 2" of the 409 for a Fetch and a Consume alike),
// handed to the Consume's error handler from the test's goroutine.
// nats.go calls it on the Consume's handler goroutine, in the order the
// 409 came; the handler then goes on with the reports behind it while the
// resumer stops the Consume, so that one in hand and others buffered
// behind it when it stops is the state nats.go leaves too (reports
// delivered into a pull that still waited after another was refused);
// the direct call makes that state certain, where through nats.go the
// handler would have to take a report between the 409 and the Stop.
func TestS40natsRefusalKeepsBufferedReports(t *testing.T) {
	_, ingest, pub, far, got, cons, refusal := refusedBehindInHand(t, "s40refused")
	subs := cons.nc.NumSubscriptions()
	cons.execTrouble(refusal)
	eventually(t, func() bool { return cons.nc.NumSubscriptions() < subs }, "the old Consume stopped")
	far.release()
	for i := range 3 {
		require.Equal(t, strconv.Itoa(1000+i), next(t, got, anyEvent).Exec.TradeID.String())
	}
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	require.Equal(t, uint64(3), cons.Stats().ExecDelivered)
	require.Equal(t, uint64(2), cons.Stats().ExecResumed, "the restart and the reset (ConsumerStats.ExecResumed)")
	ingest.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}

// refusedBehindInHand starts a Consumer on Durable durable (MaxAckPending
// 3, AckWait 1 h) with report 0 in hand (reportInHand) and reports 1 and 2
// delivered into its Consume behind it, lowers the durable consumer's
// MaxRequestBatch to 2 as an operator would, and returns the server's
// refusal of a pull past it (refusal: nats.go's error for the 409, for a
// Fetch as for a Consume), for the test to hand to execTrouble.
func refusedBehindInHand(t *testing.T, durable string) (srv *embedded.Server, ingest *node, pub *Publisher, far *smallNode, got <-chan *schema.CanonicalEvent, cons *Consumer, refusal error) {
	srv, ingest, pub, js := storedReports(t, 1)
	far, got, cons = reportInHand(t, srv.ClientURL(), nil, ConsumerOptions{Durable: durable, MaxAckPending: 3, AckWait: time.Hour})
	ingest.publish(t, execReport(1))
	ingest.publish(t, execReport(2))
	jc, err := js.Consumer(waitCtx(t), DefaultStream, durable)
	require.NoError(t, err)
	eventually(t, func() bool {
		info, err := jc.Info(waitCtx(t))
		return err == nil && info.NumAckPending == 3 && info.Delivered.Stream == 3
	}, "reports 1 and 2 delivered into the Consume, behind report 0 in hand")
	return srv, ingest, pub, far, got, cons, refuseBatch(t, js, jc)
}

// refuseBatch lowers the MaxRequestBatch of the durable consumer jc to 2,
// as an operator would, and returns the server's refusal of a pull past
// it (nats.go's error for the 409, for a Fetch as for a Consume).
func refuseBatch(t *testing.T, js jetstream.JetStream, jc jetstream.Consumer) error {
	cfg := jc.CachedInfo().Config
	cfg.MaxRequestBatch = 2
	_, err := js.UpdateConsumer(waitCtx(t), DefaultStream, cfg)
	require.NoError(t, err)
	refused, err := jc.Fetch(4, jetstream.FetchMaxWait(generous))
	require.NoError(t, err)
	for range refused.Messages() {
		require.Fail(t, "a refused pull delivered")
	}
	require.ErrorContains(t, refused.Error(), "Exceeded MaxRequestBatch")
	return refused.Error()
}
