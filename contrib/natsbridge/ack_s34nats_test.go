package natsbridge

import (
	"bytes"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// ackLossDialer dials addr; the first acknowledgement its connections are
// given to write ("PUB $JS.ACK.… +ACK") is swallowed (lost counts it), the
// rest of that write delivered: an ack lost with a dying link, which
// nats.go had written into the old socket and does not send again.
type ackLossDialer struct {
	addr string
	lost atomic.Int32
}

type ackLossConn struct {
	net.Conn
	d *ackLossDialer
}

func (c ackLossConn) Write(p []byte) (int, error) {
	if i := bytes.Index(p, []byte("PUB $JS.ACK.")); i >= 0 && c.d.lost.Load() == 0 {
		const body = "\r\n+ACK\r\n"
		if j := bytes.Index(p[i:], []byte(body)); j >= 0 && c.d.lost.CompareAndSwap(0, 1) {
			rest := append(append([]byte(nil), p[:i]...), p[i+j+len(body):]...)
			if _, err := c.Conn.Write(rest); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}

func (d *ackLossDialer) Dial(network, _ string) (net.Conn, error) {
	c, err := net.DialTimeout(network, d.addr, generous)
	if err != nil {
		return nil, err
	}
	return ackLossConn{c, d}, nil
}

// TestS34natsLostAckHoldsNoReport: the Consumer acknowledges a report and
// waits for the server's confirmation before the next one (one pending at
// a time, so that a redelivery never overtakes a later report). An ack
// the server never receives — lost with a dying link; nats.go does not
// send again what it wrote into the old socket — was waited for a whole
// AckWait (30 s by default), and the server held the next report as long:
// every execution report stalled. The ack is sent again until confirmed
// (an ack is idempotent): the next report comes at once, each delivered
// once, in order.
func TestS34natsLostAckHoldsNoReport(t *testing.T) {
	d := &ackLossDialer{}
	st := threeReportsThrough(t, "s34ack", func(addr string) nats.CustomDialer { d.addr = addr; return d })
	require.Equal(t, int32(1), d.lost.Load(), "an ack was lost")
	require.Zero(t, st.AckErrors, "the ack sent again was confirmed: %+v", st)
}

// threeReportsThrough publishes three reports on an ingest node and
// checks that a Consumer of Durable durable (AckWait 1 h: a report held
// for it times out), its connection made by the dialer dial returns for
// the server's address, hands each on once, in order; it returns the
// Consumer's counters once it is closed.
func threeReportsThrough(t *testing.T, durable string, dial func(addr string) nats.CustomDialer) ConsumerStats {
	srv := startServer(t)
	ingest := newNode(t)
	far := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(dial(srv.Addr().String()))}}),
		far.d, far.pools.Events, &ConsumerOptions{Durable: durable, AckWait: time.Hour})
	require.NoError(t, err)
	for i := range 3 {
		ingest.publish(t, execReport(i))
	}
	return reportsOnceInOrder(t, got, 0, 3, pub, cons, ingest, far)
}

// reportsOnceInOrder checks that reports from to to-1 (execReport) come
// next on got, in order, closes the bridge and the nodes, and checks that
// the Consumer handed on to reports, none twice; it returns its counters.
func reportsOnceInOrder(t *testing.T, got <-chan *schema.CanonicalEvent, from, to int, pub *Publisher, cons *Consumer, ingest, far *node) ConsumerStats {
	for i := from; i < to; i++ {
		ev := next(t, got, ofType(schema.EventExecReport))
		require.Equal(t, uint64(1000+i), mustUint(t, ev.Exec.TradeID.String()), "reports out of order or repeated")
	}
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	st := cons.Stats()
	require.Equal(t, uint64(to), st.ExecDelivered, "%+v", st)
	require.Zero(t, st.ExecDuplicate, "%+v", st)
	ingest.close(t)
	far.close(t)
	return st
}

// deliveryLossDialer dials addr; the first read of its connections that
// holds a durable message delivered ("$JS.ACK." reply subject) is lost
// with the connection, which it closes: a report the server sent into a
// link that died.
type deliveryLossDialer struct {
	addr string
	lost atomic.Int32
}

type deliveryLossConn struct {
	net.Conn
	d *deliveryLossDialer
}

func (c deliveryLossConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && bytes.Contains(p[:n], []byte("$JS.ACK.")) && c.d.lost.CompareAndSwap(0, 1) {
		_ = c.Close()
		return 0, net.ErrClosed
	}
	return n, err
}

func (d *deliveryLossDialer) Dial(network, _ string) (net.Conn, error) {
	c, err := net.DialTimeout(network, d.addr, generous)
	if err != nil {
		return nil, err
	}
	return deliveryLossConn{c, d}, nil
}

// TestS34natsReportLostInFlightRedelivered: the server delivers a report
// into the Consumer's link as it dies; the Consumer reconnects, but the
// server counts the report delivered and waiting for its ack, and
// delivers MaxAckPending (1) at a time: it held that report, and every
// later one, for a whole AckWait (30 s by default) before delivering it
// again. After a reconnection the Consumer has the server deliver again
// what it delivered and the Consumer never got: the reports flow at
// once, each delivered once, in order.
func TestS34natsReportLostInFlightRedelivered(t *testing.T) {
	d := &deliveryLossDialer{}
	st := threeReportsThrough(t, "s34flight", func(addr string) nats.CustomDialer { d.addr = addr; return d })
	require.Equal(t, int32(1), d.lost.Load(), "a delivery was lost")
	require.Positive(t, st.ExecResumed, "made to deliver again: %+v", st)
}
