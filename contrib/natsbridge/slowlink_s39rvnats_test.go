package natsbridge

import (
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// latencyProxy is a TCP proxy on loopback between NATS clients and a
// server that, while on, holds each chunk the server sends for delay
// from when it was read before passing it on (a link of that latency;
// chunks are not slowed behind one another). The test's real server and
// client speak through it; nothing of the protocol is touched.
type latencyProxy struct {
	ln    net.Listener
	to    string
	delay time.Duration
	on    atomic.Bool
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func newLatencyProxy(t *testing.T, to string, delay time.Duration) *latencyProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &latencyProxy{ln: ln, to: to, delay: delay}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *latencyProxy) url() string { return "nats://" + p.ln.Addr().String() }

func (p *latencyProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.to)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		chunks := make(chan chunk, 1024)
		p.wg.Add(3)
		go func() { defer p.wg.Done(); _, _ = io.Copy(s, c); _ = s.Close() }()
		go func() { defer p.wg.Done(); p.read(s, chunks) }()
		go func() { defer p.wg.Done(); p.write(c, chunks) }()
	}
}

type chunk struct {
	at   time.Time
	data []byte
}

// read takes what the server sends, stamped with when it came.
func (p *latencyProxy) read(s net.Conn, chunks chan<- chunk) {
	defer close(chunks)
	for {
		buf := make([]byte, 32<<10)
		n, err := s.Read(buf)
		if n > 0 {
			chunks <- chunk{at: time.Now(), data: buf[:n]}
		}
		if err != nil {
			return
		}
	}
}

// write passes each chunk on once delay has passed since it came (while on).
func (p *latencyProxy) write(c net.Conn, chunks <-chan chunk) {
	defer c.Close()
	for ch := range chunks {
		if p.on.Load() {
			if wait := time.Until(ch.at.Add(p.delay)); wait > 0 {
				tm := time.NewTimer(wait) // the link's latency, not a wait for a condition
				<-tm.C
			}
		}
		if _, err := c.Write(ch.data); err != nil && !errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

func (p *latencyProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// TestS39rvnatsSlowLinkRemake: a Consumer reading one venue's reports
// from a stream other nodes share has a gap (another venue's report) between each two
// it handled: 250 ranges. An operator deletes its durable consumer while
// the link to the server has 25 ms of latency. The remake looked up each
// range in the stream (firstHeldGap: one GetMsg each, 6 s) inside the one
// 5 s budget of a try (resumeTimeout), which then had nothing left to
// make the consumer: every try failed the same way, retried for ever — the
// reports stopped, with only a log line. The look has half the budget; a
// range it did not reach is started at (a replay, dropped by sequence).
func TestS39rvnatsSlowLinkRemake(t *testing.T) {
	const n = 250
	srv := startServer(t)
	ingest, pub, js := storedReportsOn(t, srv, StreamOptions{}, 0)
	st, err := js.Stream(waitCtx(t), DefaultStream)
	require.NoError(t, err)
	for i := range n {
		ingest.publish(t, execReport(i))
		eventually(t, func() bool {
			info, err := st.Info(waitCtx(t))
			return err == nil && info.State.LastSeq == uint64(2*i+1)
		}, "report %d stored", i)
		_, err := js.Publish(waitCtx(t), DefaultPrefix+".okx.BTC-USDT.exec_report", []byte("another node's"))
		require.NoError(t, err)
	}

	proxy := newLatencyProxy(t, srv.Addr().String(), 25*time.Millisecond)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, proxy.url(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "s39rvslow", Subjects: []string{DefaultPrefix + ".binance.>"}, AckWait: time.Hour})
	require.NoError(t, err)
	for i := range n {
		require.Equal(t, strconv.Itoa(1000+i), next(t, got, anyEvent).Exec.TradeID.String())
	}

	proxy.on.Store(true)
	require.NoError(t, js.DeleteConsumer(waitCtx(t), DefaultStream, "s39rvslow"))
	eventually(t, func() bool { return cons.Stats().ExecResumed > 0 }, "the Consumer made its durable consumer again over the slow link")
	proxy.on.Store(false)
	ingest.publish(t, execReport(n))
	require.Equal(t, strconv.Itoa(1000+n), next(t, got, anyEvent).Exec.TradeID.String(), "a handled report handed on again")

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}
