package natsbridge

import (
	"bytes"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// ackHoldDialer dials addr; its connections count in written the
// acknowledgements they are given to write ("PUB $JS.ACK.… +ACK"), and
// while hold is set swallow them, the rest of the write delivered, and
// count them in swallowed: acks that never reach the server, so that the
// Consumer's wait for the confirmation is still on when the test acts.
type ackHoldDialer struct {
	addr      string
	hold      atomic.Bool
	swallowed atomic.Int32
	written   atomic.Int32
}

type ackHoldConn struct {
	net.Conn
	d *ackHoldDialer
}

func (c ackHoldConn) Write(p []byte) (int, error) {
	const body = "\r\n+ACK\r\n"
	if !c.d.hold.Load() {
		if bytes.Contains(p, []byte("PUB $JS.ACK.")) {
			c.d.written.Add(int32(bytes.Count(p, []byte(body))))
		}
		return c.Conn.Write(p)
	}
	out := p
	for {
		i := bytes.Index(out, []byte("PUB $JS.ACK."))
		if i < 0 {
			break
		}
		j := bytes.Index(out[i:], []byte(body))
		if j < 0 {
			break
		}
		out = append(append([]byte(nil), out[:i]...), out[i+j+len(body):]...)
		c.d.swallowed.Add(1)
	}
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (d *ackHoldDialer) Dial(network, _ string) (net.Conn, error) {
	c, err := net.DialTimeout(network, d.addr, generous)
	if err != nil {
		return nil, err
	}
	return ackHoldConn{c, d}, nil
}

// TestS34rvnatsAckSentAgainAcrossForcedReconnect: an ack whose
// confirmation is awaited when nats.go drops its link on purpose
// (Conn.ForceReconnect, which a host calls to move to another server)
// is lost with the old socket; nats.go ends the wait at once with
// ErrDisconnected, not a timeout. The Consumer took that for a final
// failure (AckErrors) and never sent the ack again: the server, which
// delivers MaxAckPending (1) at a time, held the next report for the whole
// AckWait (1 h here; the test's wait ran out). Sent again until
// confirmed, the reports flow at once, each once, in order.
func TestS34rvnatsAckSentAgainAcrossForcedReconnect(t *testing.T) {
	d := &ackHoldDialer{}
	d.hold.Store(true)
	srv := startServer(t)
	d.addr = srv.Addr().String()
	ingest := newNode(t)
	far := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	nc := connect(t, srv.ClientURL(), &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(d)}})
	cons, err := NewConsumer(waitCtx(t), nc, far.d, far.pools.Events,
		&ConsumerOptions{Durable: "s34rvforce", AckWait: time.Hour})
	require.NoError(t, err)
	for i := range 3 {
		ingest.publish(t, execReport(i))
	}
	ev := next(t, got, ofType(schema.EventExecReport))
	require.Equal(t, uint64(1000), mustUint(t, ev.Exec.TradeID.String()))
	// The first report's ack is written and swallowed: its confirmation
	// is awaited (under ackRetry, so that the forced reconnection ends
	// a wait, not the pause between two).
	assert.Eventually(t, func() bool { return d.swallowed.Load() > 0 }, generous, time.Millisecond)
	require.NoError(t, nc.ForceReconnect())
	d.hold.Store(false)
	st := reportsOnceInOrder(t, got, 1, 3, pub, cons, ingest, far)
	require.Zero(t, st.AckErrors, "the ack sent again was confirmed: %+v", st)
}
