package natsbridge

import (
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS34rvnatsLostTermHoldsNoReport: an undecodable durable message is
// terminated (Term) so that it does not hold every later report. The Term
// went unconfirmed, fire and forget: one lost with a dying link (nats.go
// does not send again what it wrote into the old socket) left the server
// waiting for it a whole AckWait (1 h here; the test's wait runs out),
// and it delivers MaxAckPending (1) at a time — every later report held,
// as with a lost ack — and the reset after a reconnection does not help
// (the message is handled, past nothing). The Term is confirmed and sent
// again like an ack: the reports after it come at once, in order.
func TestS34rvnatsLostTermHoldsNoReport(t *testing.T) {
	var lost atomic.Int32
	b := newRVBridge(t, "s34rvterm", &cutDialer{cut: func(p []byte) []byte {
		if lost.Load() > 0 {
			return p
		}
		p, n := cutAcks(p, "+TERM", 1)
		lost.Add(int32(n))
		return p
	}})
	b.reports(t, 0, 1)
	require.NoError(t, b.pub.Flush(closeCtx(t)))
	js, err := jetstream.New(connect(t, b.srv.ClientURL(), nil))
	require.NoError(t, err)
	_, err = js.Publish(closeCtx(t), Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventExecReport),
		[]byte("not a report"), jetstream.WithMsgID("s34rv-junk"))
	require.NoError(t, err)
	b.reports(t, 1, 3)
	st := reportsOnceInOrder(t, b.got, 0, 3, b.pub, b.cons, b.ingest, b.far)
	require.Equal(t, int32(1), lost.Load(), "a Term was lost")
	require.Zero(t, st.AckErrors, "%+v", st)
}
