package natsbridge

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// logBuf is a Logger's text output, safe to read while it is written.
type logBuf struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (l *logBuf) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(syncWriter{&l.mu, &l.out}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// lines returns the lines of the output that hold every one of parts.
func (l *logBuf) lines(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var got []string
	for _, line := range strings.Split(l.out.String(), "\n") {
		all := line != ""
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			got = append(got, line)
		}
	}
	return got
}

// s35Bridge is an ingest node publishing to a server and a far node whose
// Consumer (Durable durable, AckWait 1 h: a report held for it times the
// test out, MaxAckPending maxPending) logs into log and connects through
// dial.
type s35Bridge struct {
	srv         *embedded.Server
	ingest, far *node
	pub         *Publisher
	nc          *nats.Conn
	cons        *Consumer
	got         <-chan *schema.CanonicalEvent
	log         logBuf
}

func newS35Bridge(t *testing.T, durable string, maxPending int, dial func(addr string) nats.CustomDialer) *s35Bridge {
	b := &s35Bridge{srv: startServer(t), ingest: newNode(t), far: newNode(t)}
	var err error
	b.pub, err = NewPublisher(waitCtx(t), connect(t, b.srv.ClientURL(), nil), b.ingest.d, nil)
	require.NoError(t, err)
	b.got = b.far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	var opts *ConnectOptions
	if dial != nil {
		opts = &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(dial(b.srv.Addr().String()))}}
	}
	b.nc = connect(t, b.srv.ClientURL(), opts)
	b.cons, err = NewConsumer(waitCtx(t), b.nc, b.far.d, b.far.pools.Events,
		&ConsumerOptions{Durable: durable, AckWait: time.Hour, MaxAckPending: maxPending, Logger: b.log.logger()})
	require.NoError(t, err)
	return b
}

// nextReport requires report i (execReport) next on got.
func (b *s35Bridge) nextReport(t *testing.T, i int) {
	ev := next(t, b.got, ofType(schema.EventExecReport))
	require.Equal(t, uint64(1000+i), mustUint(t, ev.Exec.TradeID.String()), "reports out of order or repeated")
}

// finish closes the bridge, checks that n reports were handed on and none
// came twice, and returns the Consumer's counters.
func (b *s35Bridge) finish(t *testing.T, n uint64) ConsumerStats {
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

const lostLinkWarn = "delivered into the lost link"

// TestS35natsNoResetForAReportReceived: after an ordinary reconnection
// the server waits for the ack of a report that is not lost — nats.go
// handed it to onExec, which waits for execMu. The reset (resetLost) ran
// anyway, logged at Warn "reports delivered into the lost link" and
// counted ExecResumed: an operator alarmed for nothing, and the report
// delivered twice (the second dropped by its id). A report received is
// not reset: handed on once, no Warn, ExecResumed 0, no duplicate.
func TestS35natsNoResetForAReportReceived(t *testing.T) {
	b := newS35Bridge(t, "s35nothing", 0, nil)
	cons := b.cons
	jc, err := cons.execResume.js.Consumer(waitCtx(t), cons.opts.Stream.Name, cons.opts.Durable)
	require.NoError(t, err)
	cons.execMu.Lock()
	locked := true
	defer func() {
		if locked {
			cons.execMu.Unlock()
		}
	}()
	b.ingest.publish(t, execReport(0))
	// Delivered, and in onExec, waiting for execMu.
	assert.Eventually(t, func() bool {
		info, err := jc.Info(waitCtx(t))
		return err == nil && info.NumAckPending == 1 && info.Delivered.Stream > 0 && cons.execDoor.waiting(info.Delivered.Stream-1, info.Delivered.Stream) == 1
	}, generous, time.Millisecond)
	info, err := jc.Info(waitCtx(t))
	require.NoError(t, err)
	require.Greater(t, info.Delivered.Stream, cons.execHigh, "delivered past the last handled, as after a reconnection that raced the report")
	cons.resetLost(info, nil)
	cons.execMu.Unlock()
	locked = false

	b.nextReport(t, 0)
	b.ingest.publish(t, execReport(1))
	b.nextReport(t, 1)
	st := b.finish(t, 2)
	require.Zero(t, st.ExecDuplicate, "delivered once: %+v", st)
	require.Zero(t, st.ExecResumed, "nothing was lost: %+v", st)
	require.Empty(t, b.log.lines("level=WARN"), "nothing was lost")
}

// s35LossDialer dials addr. While hold is set its connections swallow
// every ack they are given to write (swallowed counts them; nats.go
// thinks them sent); once armed, the first read of a connection that
// holds a durable message delivered is lost with the connection, which
// it closes (lost is then closed).
type s35LossDialer struct {
	addr      string
	hold      atomic.Bool
	swallowed atomic.Int32
	armed     atomic.Bool
	lost      chan struct{}
}

type s35LossConn struct {
	net.Conn
	d *s35LossDialer
}

func (c s35LossConn) Write(p []byte) (int, error) {
	if c.d.hold.Load() {
		var n int
		p, n = cutAcks(p, "+ACK", 1<<30)
		c.d.swallowed.Add(int32(n))
		if len(p) == 0 {
			return 0, nil
		}
	}
	if _, err := c.Conn.Write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c s35LossConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && bytes.Contains(p[:n], []byte("$JS.ACK.")) && c.d.armed.CompareAndSwap(true, false) {
		_ = c.Close()
		close(c.d.lost)
		return 0, net.ErrClosed
	}
	return n, err
}

func (d *s35LossDialer) Dial(network, _ string) (net.Conn, error) {
	c, err := net.DialTimeout(network, d.addr, generous)
	if err != nil {
		return nil, err
	}
	return s35LossConn{c, d}, nil
}

// TestS35natsResetBehindAckRetriedNotLost: with MaxAckPending 2 the
// server delivers a report into the link as it dies while the ack of the
// one before is still unconfirmed — sent again each second (ackRetry)
// under execMu until the server confirms it. The reset after the
// reconnection (redeliverLost) waits for execMu; its 5 s deadline started
// before that wait, so an ack confirmed more than 5 s after the
// reconnection left the reset failing (logged) and the lost report, with
// every later one, waiting out AckWait (1 h here: the test's wait ran
// out). The reset's deadline starts once it holds execMu: the lost report
// comes at once, once, in order, told at Warn and counted in ExecResumed.
func TestS35natsResetBehindAckRetriedNotLost(t *testing.T) {
	d := &s35LossDialer{lost: make(chan struct{})}
	b := newS35Bridge(t, "s35behind", 2, func(addr string) nats.CustomDialer { d.addr = addr; return d })

	d.hold.Store(true)
	b.ingest.publish(t, execReport(0))
	b.nextReport(t, 0)
	eventually(t, func() bool { return d.swallowed.Load() > 0 }, "report 0's ack swallowed")
	d.armed.Store(true)
	b.ingest.publish(t, execReport(1))
	select {
	case <-d.lost:
	case <-closeCtx(t).Done():
		t.Fatal("report 1 was never delivered")
	}
	// The ack is sent again each second on the new link: once it has been
	// swallowed there 7 times, more than 5 s have passed since the
	// reconnection woke the reset.
	eventually(t, func() bool { return b.nc.IsConnected() }, "reconnected")
	base := d.swallowed.Load()
	require.Eventually(t, func() bool { return d.swallowed.Load() >= base+7 }, 2*generous, 10*time.Millisecond, "report 0's ack sent again")
	d.hold.Store(false)
	b.nextReport(t, 1)
	b.ingest.publish(t, execReport(2))
	b.nextReport(t, 2)
	st := b.finish(t, 3)
	require.Zero(t, st.ExecDuplicate, "%+v", st)
	require.Equal(t, uint64(1), st.ExecResumed, "the lost report counted: %+v", st)
	require.Len(t, b.log.lines("level=WARN", lostLinkWarn), 1, "the lost report told")
}

// TestS35natsHandedBackReportLostInLinkReset: a report the Consumer
// received and handed back (Nak: the host's event pool exhausted) is
// delivered again — and that delivery is lost with the link. The Consumer
// received that report once, but not this delivery: the reset after the
// reconnection must still be made (a Consumer that took "received once"
// for "not lost" left it, and every later report, waiting out AckWait, 1 h
// here). It comes at once, once.
func TestS35natsHandedBackReportLostInLinkReset(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 64)
	_, err = far.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	d := &s35LossDialer{addr: srv.Addr().String(), lost: make(chan struct{})}
	nc := connect(t, srv.ClientURL(), &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(d)}})
	cons, err := NewConsumer(waitCtx(t), nc, far.d, far.events,
		&ConsumerOptions{Durable: "s35naked", AckWait: time.Hour, PoolWait: 20 * time.Millisecond})
	require.NoError(t, err)

	far.hold(0)
	ingest.publish(t, execReport(0))
	eventually(t, func() bool { return cons.Stats().PoolDropped >= 2 }, "report 0 handed back")
	d.armed.Store(true) // its next delivery is lost with the link
	select {
	case <-d.lost:
	case <-closeCtx(t).Done():
		t.Fatal("report 0 was never delivered again")
	}
	eventually(t, func() bool { return nc.IsConnected() }, "reconnected")
	far.release()
	ev := next(t, got, anyEvent)
	require.Equal(t, "1000", ev.Exec.TradeID.String())
	ingest.publish(t, execReport(1))
	require.Equal(t, "1001", next(t, got, anyEvent).Exec.TradeID.String())

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	st := cons.Stats()
	require.Equal(t, uint64(2), st.ExecDelivered, "%+v", st)
	require.Positive(t, st.ExecResumed, "%+v", st)
	ingest.close(t)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}
