package natsbridge

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// cutDialer dials addr; its connections write what cut leaves of each
// write (the server never gets the rest), telling the writer all of it
// went: what nats.go wrote into a link that died.
type cutDialer struct {
	addr string
	cut  func(p []byte) []byte
}

type cutConn struct {
	net.Conn
	d *cutDialer // not the func: nats.go compares connections
}

func (c cutConn) Write(p []byte) (int, error) {
	if _, err := c.Conn.Write(c.d.cut(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (d *cutDialer) Dial(network, _ string) (net.Conn, error) {
	c, err := net.DialTimeout(network, d.addr, generous)
	if err != nil {
		return nil, err
	}
	return cutConn{c, d}, nil
}

// cutAcks returns p without its first n acknowledgements of kind body
// ("+ACK", "+TERM": "PUB $JS.ACK.… body"), and how many it left out.
func cutAcks(p []byte, body string, n int) ([]byte, int) {
	cut := 0
	for ; cut < n; cut++ {
		i := bytes.Index(p, []byte("PUB $JS.ACK."))
		if i < 0 {
			break
		}
		j := bytes.Index(p[i:], []byte("\r\n"+body+"\r\n"))
		if j < 0 {
			break
		}
		p = append(append([]byte(nil), p[:i]...), p[i+j+len(body)+4:]...)
	}
	return p, cut
}

// rvBridge is an ingest node publishing to a server, and a far node whose
// Consumer of Durable durable (AckWait 1 h: a report held for it times
// the test out) connects through d; got receives the far node's
// execution reports.
type rvBridge struct {
	srv         *embedded.Server
	ingest, far *node
	pub         *Publisher
	nc          *nats.Conn // the Consumer's
	cons        *Consumer
	got         <-chan *schema.CanonicalEvent
}

func newRVBridge(t *testing.T, durable string, d *cutDialer) *rvBridge {
	b := &rvBridge{srv: startServer(t), ingest: newNode(t), far: newNode(t)}
	d.addr = b.srv.Addr().String()
	var err error
	b.pub, err = NewPublisher(waitCtx(t), connect(t, b.srv.ClientURL(), nil), b.ingest.d, nil)
	require.NoError(t, err)
	b.got = b.far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	b.nc = connect(t, b.srv.ClientURL(), &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(d)}})
	b.cons, err = NewConsumer(waitCtx(t), b.nc, b.far.d, b.far.pools.Events,
		&ConsumerOptions{Durable: durable, AckWait: time.Hour})
	require.NoError(t, err)
	return b
}

// reports publishes reports from to to-1 (execReport).
func (b *rvBridge) reports(t *testing.T, from, to int) {
	for i := from; i < to; i++ {
		b.ingest.publish(t, execReport(i))
	}
}

// nextReport requires report i (execReport) next on got.
func (b *rvBridge) nextReport(t *testing.T, i int) {
	ev := next(t, b.got, ofType(schema.EventExecReport))
	require.Equal(t, uint64(1000+i), mustUint(t, ev.Exec.TradeID.String()), "reports out of order or repeated")
}

// finish closes the bridge and checks that the Consumer handed on n
// reports and nothing came to the host after them; a copy delivered again
// and dropped by its id (the reset after a reconnection may deliver again
// a report nats.go held, not lost) is not handed on. It returns the
// Consumer's counters.
func (b *rvBridge) finish(t *testing.T, n uint64) ConsumerStats {
	require.NoError(t, b.pub.Close(closeCtx(t)))
	require.NoError(t, b.cons.Close(closeCtx(t)))
	st := b.cons.Stats()
	require.Equal(t, n, st.ExecDelivered, "%+v", st)
	select {
	case ev := <-b.got:
		require.Failf(t, "a report twice", "%v", ev.Exec.TradeID)
	default:
	}
	b.ingest.close(t)
	b.far.close(t)
	return st
}
