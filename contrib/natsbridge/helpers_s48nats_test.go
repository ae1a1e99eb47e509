package natsbridge

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// firstThenStopped is a stream holding report 0 and a far node's
// Consumer (opts) that handed it on, its ack confirmed, and whose Consume
// was then stopped: its pulls end with it (no interest left on the
// server), and the test's own pulls of the durable consumer, or a
// stand-in for the Consume, take what comes next.
type firstThenStopped struct {
	srv    *embedded.Server
	ingest *node
	pub    *Publisher
	js     jetstream.JetStream
	jc     jetstream.Consumer // the durable consumer, read through js
	far    *node
	got    <-chan *schema.CanonicalEvent
	cons   *Consumer
}

func newFirstThenStopped(t *testing.T, opts ConsumerOptions) *firstThenStopped {
	f := &firstThenStopped{far: newNode(t)}
	f.srv, f.ingest, f.pub, f.js = storedReports(t, 1)
	f.got = f.far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	var err error
	f.cons, err = NewConsumer(waitCtx(t), connect(t, f.srv.ClientURL(), nil), f.far.d, f.far.pools.Events, &opts)
	require.NoError(t, err)
	require.Equal(t, "1000", next(t, f.got, anyEvent).Exec.TradeID.String())
	eventually(t, func() bool { return f.cons.Stats().ExecDelivered == 1 }, "report 0 handled")
	f.cons.execMu.Lock()   // its ack confirmed (see handledAll)
	f.cons.execMu.Unlock() //nolint:staticcheck // an empty critical section is the wait
	f.cons.cc.Stop()
	<-f.cons.cc.Closed()
	// Its UNSUB, written before Closed (under the connection's lock that a
	// flush takes), reaches the server before any report stored next: one
	// published first went into the Consume's last pull, lost (the test's
	// own pull got 1 of 2 in 1 run of 3).
	require.NoError(t, f.cons.nc.FlushWithContext(waitCtx(t)))
	f.jc, err = f.js.Consumer(waitCtx(t), DefaultStream, opts.Durable)
	require.NoError(t, err)
	return f
}

// expect requires the next reports to be ids, in order.
func (f *firstThenStopped) expect(t *testing.T, ids ...string) {
	t.Helper()
	for _, id := range ids {
		require.Equal(t, id, next(t, f.got, anyEvent).Exec.TradeID.String(), "report %s came after AckWait", id)
	}
}

// close closes everything, the Consumer having handed on n reports.
func (f *firstThenStopped) close(t *testing.T, n uint64) {
	require.NoError(t, f.pub.Close(closeCtx(t)))
	require.NoError(t, f.cons.Close(closeCtx(t)))
	require.Equal(t, n, f.cons.Stats().ExecDelivered)
	f.ingest.close(t)
	f.far.close(t)
}

// fetched pulls n messages of the consumer jc, as the test's own pull.
func fetched(t *testing.T, jc jetstream.Consumer, n int) []jetstream.Msg {
	batch, err := jc.Fetch(n, jetstream.FetchMaxWait(generous))
	require.NoError(t, err)
	var pulled []jetstream.Msg
	for m := range batch.Messages() {
		pulled = append(pulled, m)
	}
	require.NoError(t, batch.Error())
	require.Len(t, pulled, n)
	return pulled
}
