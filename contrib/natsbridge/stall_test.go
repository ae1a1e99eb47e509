package natsbridge

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// ackStall is a TCP relay between a client and a real NATS server that
// goes silent, both ways, from the first JetStream ack the client sends:
// a server that stops answering mid-ack (a network partition), with the
// connection still open.
//
// With a delay (newSlowLink) it is a link of that latency instead, while
// slow is set: what the server sends is held for delay before it is
// passed on.
type ackStall struct {
	ln      net.Listener
	target  string
	trigger []byte // what the client sends that starts the stall (nil: none)
	stalled atomic.Bool
	delay   time.Duration
	slow    atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
}

func newAckStall(t *testing.T, target string) *ackStall {
	return newStall(t, target, []byte("$JS.ACK."))
}

// newStall is a relay that goes silent from the first time the client
// sends trigger.
func newStall(t *testing.T, target string, trigger []byte) *ackStall {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &ackStall{ln: ln, target: target, trigger: trigger}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *ackStall) url() string { return "nats://" + p.ln.Addr().String() }

func (p *ackStall) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Go(func() { p.relay(c, s, true) })
		p.wg.Go(func() { p.relay(s, c, false) })
	}
}

// relay copies src to dst until the stall, then reads and drops.
func (p *ackStall) relay(src, dst net.Conn, fromClient bool) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if fromClient && p.trigger != nil && bytes.Contains(buf[:n], p.trigger) {
			p.stalled.Store(true)
		}
		if p.stalled.Load() {
			continue
		}
		if !fromClient && p.slow.Load() {
			<-time.After(p.delay) // the link's latency, not a wait for a condition
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (p *ackStall) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Close keeps to its ctx while an ack waits for a server that stopped
// answering: the ack's wait ends with Close's ctx (the report may come
// again to the next incarnation, which is what an unconfirmed ack means),
// instead of AckWait — an hour here, 30 s by default — whatever the ctx.
func TestReviewCloseEndsAckWait(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	proxy := newAckStall(t, srv.Addr().String())
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, proxy.url(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "stall", AckWait: time.Hour})
	require.NoError(t, err)
	ingest.publish(t, execReport(0))
	next(t, got, ofType(schema.EventExecReport))
	eventually(t, proxy.stalled.Load, "the ack is sent and goes unanswered")

	err = closeWithin(t, cons, 100*time.Millisecond)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "Close says what it could not finish: %v", err)
	assert.Equal(t, uint64(1), cons.Stats().AckErrors, "the ack is not confirmed")
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}

// closeWithin closes cons with a ctx of d and returns Close's error; the
// test fails when Close is still waiting after generous (it waits out
// AckWait, or a server that stopped answering, past its ctx).
func closeWithin(t *testing.T, cons *Consumer, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- cons.Close(ctx) }()
	select {
	case err := <-closed:
		return err
	case <-time.After(generous):
		require.Fail(t, "Close waits past its ctx")
		return nil
	}
}

// Publisher.Close keeps to its ctx while a report's store waits for a
// server that stopped answering: the attempt in flight ends with Close's
// ctx (the report counted pending), instead of PublishTimeout — an hour
// here — whatever the ctx, as the Consumer's ack wait already does.
func TestS23PublisherCloseEndsStoreWait(t *testing.T) {
	srv := startServer(t)
	proxy := newStall(t, srv.Addr().String(), []byte("meltica.binance."))
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, proxy.url(), nil), ingest.d, &PublisherOptions{PublishTimeout: time.Hour})
	require.NoError(t, err)
	ingest.publish(t, execReport(0))
	eventually(t, proxy.stalled.Load, "the report is sent and goes unanswered")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- pub.Close(ctx) }()
	select {
	case err := <-closed:
		assert.ErrorIs(t, err, ErrExecPending, "Close says the report was not stored")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(generous):
		t.Fatal("Close waits out PublishTimeout, past its ctx")
	}
	ingest.close(t)
}
