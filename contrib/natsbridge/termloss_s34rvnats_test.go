package natsbridge

import (
	"bytes"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// termLossDialer dials addr; the first termination its connections are
// given to write ("PUB $JS.ACK.… +TERM") is swallowed (lost counts it),
// the rest of that write delivered: a Term lost with a dying link.
type termLossDialer struct {
	addr string
	lost atomic.Int32
}

type termLossConn struct {
	net.Conn
	d *termLossDialer
}

func (c termLossConn) Write(p []byte) (int, error) {
	if i := bytes.Index(p, []byte("PUB $JS.ACK.")); i >= 0 && c.d.lost.Load() == 0 {
		if j := bytes.Index(p[i:], []byte("\r\n+TERM")); j >= 0 {
			if k := bytes.Index(p[i+j+2:], []byte("\r\n")); k >= 0 && c.d.lost.CompareAndSwap(0, 1) {
				end := i + j + 2 + k + 2
				rest := append(append([]byte(nil), p[:i]...), p[end:]...)
				if _, err := c.Conn.Write(rest); err != nil {
					return 0, err
				}
				return len(p), nil
			}
		}
	}
	return c.Conn.Write(p)
}

func (d *termLossDialer) Dial(network, _ string) (net.Conn, error) {
	c, err := net.DialTimeout(network, d.addr, generous)
	if err != nil {
		return nil, err
	}
	return termLossConn{c, d}, nil
}

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
	d := &termLossDialer{}
	srv := startServer(t)
	d.addr = srv.Addr().String()
	ingest := newNode(t)
	far := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(d)}}),
		far.d, far.pools.Events, &ConsumerOptions{Durable: "s34rvterm", AckWait: time.Hour})
	require.NoError(t, err)
	ingest.publish(t, execReport(0))
	require.NoError(t, pub.Flush(closeCtx(t)))
	js, err := jetstream.New(connect(t, srv.ClientURL(), nil))
	require.NoError(t, err)
	_, err = js.Publish(closeCtx(t), Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventExecReport),
		[]byte("not a report"), jetstream.WithMsgID("s34rv-junk"))
	require.NoError(t, err)
	for i := 1; i < 3; i++ {
		ingest.publish(t, execReport(i))
	}
	st := reportsOnceInOrder(t, got, 0, 3, pub, cons, ingest, far)
	require.Equal(t, int32(1), d.lost.Load(), "a Term was lost")
	require.Zero(t, st.AckErrors, "%+v", st)
}
