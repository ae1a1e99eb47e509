package natsbridge

import (
	"bytes"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// restartLossDialer dials the server it follows; the first read of its
// connections holding a durable message delivered is lost with the
// connection, and lost is closed: the test then restarts the server.
type restartLossDialer struct {
	embedded.Dialer
	armed atomic.Bool
	lost  chan struct{}
}

type restartLossConn struct {
	net.Conn
	d *restartLossDialer
}

func (c restartLossConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && bytes.Contains(p[:n], []byte("$JS.ACK.")) && c.d.armed.CompareAndSwap(true, false) {
		_ = c.Close()
		close(c.d.lost)
		return 0, net.ErrClosed
	}
	return n, err
}

func (d *restartLossDialer) Dial(network, addr string) (net.Conn, error) {
	c, err := d.Dialer.Dial(network, addr)
	if err != nil {
		return nil, err
	}
	return restartLossConn{c, d}, nil
}

// TestS34natsReportLostInFlightAcrossServerRestart: the server restarts
// (same store) just as a report it delivered to the Consumer was lost
// with the link; the server restored the durable consumer waiting for
// that report's ack. Every report, those published during the outage
// included, reaches the host once, in order, without waiting out AckWait.
func TestS34natsReportLostInFlightAcrossServerRestart(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	var follow embedded.Dialer
	follow.Follow(srv)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(&follow)}}), ingest.d, nil)
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	d := &restartLossDialer{lost: make(chan struct{})}
	d.Follow(srv)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(d)}}),
		far.d, far.pools.Events, &ConsumerOptions{Durable: "s34restart", AckWait: time.Hour})
	require.NoError(t, err)
	ingest.publish(t, execReport(0))
	require.Equal(t, uint64(1000), mustUint(t, next(t, got, ofType(schema.EventExecReport)).Exec.TradeID.String()))
	d.armed.Store(true)
	ingest.publish(t, execReport(1))
	select {
	case <-d.lost:
	case <-closeCtx(t).Done():
		t.Fatal("the report was never delivered")
	}
	srv2, err := srv.Restart()
	require.NoError(t, err)
	t.Cleanup(srv2.Stop)
	follow.Follow(srv2)
	d.Follow(srv2)
	ingest.publish(t, execReport(2))
	reportsOnceInOrder(t, got, 1, 3, pub, cons, ingest, far)
}
