package natsbridge

import (
	"strconv"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
)

// TestS37rvnatsOldConsumeLateInOrder: a Consume a resume replaced may
// still hold a delivery at the door (nats.go's Closed does not wait for a
// callback in progress) while the new one delivers from an earlier report.
// Handed on, that late report reached the host before the earlier ones
// (0, 4, 1, 2, 3) — execution reports out of order. The current consumer
// delivers it again in its turn: the late one is handed back.
func TestS37rvnatsOldConsumeLateInOrder(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 5)

	far, got, cons := reportInHand(t, srv.ClientURL(), nil, ConsumerOptions{Durable: "s37rvorder"})

	// The replaced Consume's late delivery of report 4 (stream sequence 5).
	handLate(t, cons, far, lateDelivery(t, js, "s37rvold", 5, 1))
	for i := range 5 {
		ev := next(t, got, anyEvent)
		require.Equal(t, strconv.Itoa(1000+i), ev.Exec.TradeID.String(), "report %d: %s %s", i, ev.Type, reasonOf(ev))
	}
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	stats := cons.Stats()
	require.Zero(t, stats.ExecLost, "%+v", stats)
	require.Equal(t, uint64(5), stats.ExecDelivered, "%+v", stats)
	ingest.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}

// storedReports starts a server and an ingest node whose Publisher has
// stored n execution reports (execReport 0 to n-1) in the default
// stream; js is a JetStream context on the Publisher's connection.
func storedReports(t *testing.T, n int) (srv *embedded.Server, ingest *node, pub *Publisher, js jetstream.JetStream) {
	return storedReportsIn(t, StreamOptions{}, n)
}

// storedReportsIn is storedReports with the Publisher's stream options so.
func storedReportsIn(t *testing.T, so StreamOptions, n int) (srv *embedded.Server, ingest *node, pub *Publisher, js jetstream.JetStream) {
	srv = startServer(t)
	ingest, pub, js = storedReportsOn(t, srv, so, n)
	return srv, ingest, pub, js
}

// storedReportsOn is storedReportsIn on the server srv.
func storedReportsOn(t *testing.T, srv *embedded.Server, so StreamOptions, n int) (ingest *node, pub *Publisher, js jetstream.JetStream) {
	ingest = newNode(t)
	pnc := connect(t, srv.ClientURL(), nil)
	pub, err := NewPublisher(waitCtx(t), pnc, ingest.d, &PublisherOptions{Stream: so})
	require.NoError(t, err)
	js, err = jetstream.New(pnc)
	require.NoError(t, err)
	storeReports(t, js, ingest, 0, n)
	return ingest, pub, js
}

// storeReports has ingest publish execution reports from to to-1 and
// waits until the stream has stored them (its last sequence at to, the
// stream's first report being report 0).
func storeReports(t *testing.T, js jetstream.JetStream, ingest *node, from, to int) {
	st, err := js.Stream(waitCtx(t), DefaultStream)
	require.NoError(t, err)
	for i := from; i < to; i++ {
		ingest.publish(t, execReport(i))
	}
	eventually(t, func() bool {
		info, err := st.Info(waitCtx(t))
		return err == nil && info.State.LastSeq >= uint64(to)
	}, "reports stored")
}
