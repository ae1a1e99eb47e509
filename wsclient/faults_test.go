package wsclient

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	gojson "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// steady is the script of every connection after the faulty one: read the
// subscriptions, say which connection this is, then keep answering pings
// and send a heartbeat every 20 ms so that no watchdog fires.
func steady(s *session) {
	if s.readN(len(testSubs)) != nil {
		return
	}
	s.readForever()
	tk := time.NewTicker(20 * time.Millisecond)
	defer tk.Stop()
	for i := 0; s.send(fmt.Sprintf(`{"conn":%d,"hb":%d}`, s.n, i)) == nil; i++ {
		select {
		case <-tk.C:
		case <-s.ctx.Done():
			return
		}
	}
}

// faulty runs fault on the first connection and steady on the others.
func faulty(fault func(s *session)) func(s *session) {
	return func(s *session) {
		if s.n > 1 {
			steady(s)
			return
		}
		if s.readN(len(testSubs)) != nil {
			return
		}
		fault(s)
	}
}

// Fault 1: the venue closes the connection with a close frame.
func TestFaultNormalClose(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, faulty(func(s *session) {
		_ = s.send(`{"n":1}`, `{"n":2}`)
		_ = s.ws.Close(websocket.StatusNormalClosure, "maintenance")
	}))
	h := start(t, v.url(), quickOptions(), &sink{}, leaks)

	lost := requireRecovered(t, h, v, ReasonPeerClosed)
	require.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(lost.Err))
	h.sink.waitFor(t, `{"n":1}`, `{"n":2}`, `{"conn":2,"hb":0}`)
	h.finish(v)
}

// Fault 2: the TCP connection is reset under the WebSocket.
func TestFaultTCPReset(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, faulty(func(s *session) {
		_ = s.send(`{"n":1}`)
		_ = s.raw.(*net.TCPConn).SetLinger(0) // close sends RST
		_ = s.raw.Close()
	}))
	h := start(t, v.url(), quickOptions(), &sink{}, leaks)

	lost := requireRecovered(t, h, v, ReasonReadError)
	require.Error(t, lost.Err)
	h.sink.waitFor(t, `{"n":1}`, `{"conn":2,"hb":0}`)
	h.finish(v)
}

// Fault 3: the venue stops sending but keeps TCP open and keeps answering
// pings: only the idle watchdog can tell.
func TestFaultStallIdleWatchdog(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, faulty(func(s *session) {
		_ = s.send(`{"n":1}`)
		s.readForever() // pongs keep coming
		<-s.ctx.Done()
	}))
	opts := quickOptions()
	opts.IdleTimeout = 300 * time.Millisecond
	h := start(t, v.url(), opts, &sink{}, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	// One ping answered first (the venue is alive to pings), then time
	// passes with nothing arriving. The pong timeout (3 s) is far off.
	h.advanceUntil(opts.PingInterval, "a pong", func() bool { return h.c.Stats().PingRTT > 0 })
	h.advanceUntil(50*time.Millisecond, "idle", h.lostConn1)

	lost := requireRecovered(t, h, v, ReasonIdle)
	require.ErrorIs(t, lost.Err, ErrIdle)
	require.Positive(t, h.c.Stats().PingRTT, "pings were answered: the watchdog, not the pong timeout, fired")
	require.Zero(t, h.c.Stats().Reconnects[ReasonPongTimeout])
	h.finish(v)
}

// Fault 4: half-open: the venue still sends data but no longer reads, so
// pings go unanswered. The pong timeout fires although messages arrive.
func TestFaultHalfOpenPongTimeout(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, faulty(func(s *session) {
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for i := 0; ; i++ {
			select {
			case <-tk.C:
			case <-s.ctx.Done():
				return
			}
			if s.send(fmt.Sprintf(`{"tick":%d}`, i)) != nil {
				return
			}
		}
	}))
	opts := quickOptions()
	opts.PingInterval = 30 * time.Millisecond
	opts.PongTimeout = 300 * time.Millisecond
	opts.IdleTimeout = time.Hour
	h := start(t, v.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"tick":0}`)
	h.advanceUntil(10*time.Millisecond, "pong timeout", h.lostConn1)

	lost := requireRecovered(t, h, v, ReasonPongTimeout)
	require.ErrorIs(t, lost.Err, ErrPongTimeout)
	h.sink.waitFor(t, `{"tick":0}`, `{"conn":2,"hb":0}`)
	h.finish(v)
}

// Fault 5: junk between good messages: the good ones arrive, the junk is
// counted and reported, the connection survives.
func TestFaultGarbageFrames(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, faulty(func(s *session) {
		_ = s.send(`{"n":1}`)
		_ = s.ws.Write(s.ctx, websocket.MessageBinary, []byte{0xff, 0x00, 0x13, 0x37})
		_ = s.send("\xff\xfe invalid UTF-8", `{"n":2}`, `not json`, `{"n":3}`)
		s.readForever()
		<-s.ctx.Done()
	}))
	k := &sink{hook: func(f *schema.WsFrame) error {
		if !gojson.Valid(f.Data) {
			return errJunk
		}
		return nil
	}}
	h := start(t, v.url(), quickOptions(), k, leaks)

	k.waitFor(t, `{"n":1}`, `{"n":2}`, `{"n":3}`)
	h.rec.waitFor(t, "invalid frame", func(ev Event) bool {
		return ev.Reason == ReasonInvalidFrame && errors.Is(ev.Err, ErrInvalidUTF8) && ev.ConnID == 1
	})
	require.Eventually(t, func() bool {
		return h.rec.count(func(ev Event) bool { return ev.Reason == ReasonHandlerError && errors.Is(ev.Err, errJunk) }) == 2
	}, wait, time.Millisecond)
	st := h.c.Stats()
	require.EqualValues(t, 2, st.HandlerErrors, "binary junk and bad text reached the handler, which refused them")
	require.EqualValues(t, 1, st.InvalidFrames)
	require.EqualValues(t, 5, st.Messages)
	require.Zero(t, st.TotalReconnects(), "the connection survived")
	require.Equal(t, schema.ConnConnected, st.State)
	require.EqualValues(t, 1, st.ConnID)
	require.Zero(t, h.rec.count(isState(schema.ConnDisconnected)))
	require.Equal(t, testSubs, v.received(1), "subscribed once")
	h.finish(v)
}

// Fault 6: a message over the read limit: typed error, counted, the
// message dropped, the connection and the messages after it unharmed
// (DESIGN.md contract 6).
func TestFaultOversizedFrame(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	big := `{"big":"` + string(make([]byte, 4096)) + `"}`
	v := newVenue(t, faulty(func(s *session) {
		_ = s.send(`{"n":1}`, big, `{"n":2}`)
		<-s.ctx.Done()
	}))
	opts := quickOptions()
	opts.ReadLimit = 1024
	h := start(t, v.url(), opts, &sink{}, leaks)

	h.sink.waitFor(t, `{"n":1}`, `{"n":2}`)
	reported := h.rec.waitFor(t, "the oversized message reported", func(ev Event) bool { return ev.Reason == ReasonOversized })
	var oe *OversizedError
	require.ErrorAs(t, reported.Err, &oe)
	require.EqualValues(t, 1024, oe.Limit)
	require.EqualValues(t, len(big), oe.Size)
	require.EqualValues(t, 1, oe.ConnID)
	require.ErrorIs(t, reported.Err, websocket.ErrMessageTooBig)
	require.Equal(t, schema.ConnConnected, reported.State, "reported on a connection that stays up")
	st := h.c.Stats()
	require.EqualValues(t, 1, st.Oversized)
	require.EqualValues(t, 2, st.Messages, "the oversized message is not delivered")
	require.Zero(t, st.TotalReconnects(), "the connection survived")
	require.EqualValues(t, 1, st.ConnID)
	require.Zero(t, h.rec.count(isState(schema.ConnDisconnected)))
	require.NotContains(t, h.sink.got(), big)
	h.finish(v)
}

// Fault 7: a handler slower than every liveness timeout. The reader is not
// waiting on the socket while the handler runs, so neither the watchdog nor
// the pong timeout fires however long (on the Clock) it runs; the venue's
// writes block (TCP backpressure: both socket buffers are made small, so
// 4 MB cannot fit in their few hundred KB) and the client holds one frame,
// not a backlog.
func TestFaultSlowHandler(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	const total = 1000 // 4 MB: far more than the socket buffers hold
	payload := strings.Repeat("x", 4000)
	var sent atomic.Int64
	v := newVenue(t, func(s *session) {
		_ = s.raw.(*net.TCPConn).SetWriteBuffer(64 << 10)
		if s.readN(len(testSubs)) != nil {
			return
		}
		s.readForever() // answers pings while it can
		for i := range total {
			if s.send(`{"i":`+strconv.Itoa(i)+`,"p":"`+payload+`"}`) != nil {
				return
			}
			sent.Add(1)
		}
		<-s.ctx.Done()
	})
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free() // before the cleanups' Close, which waits for the handler
	entered := make(chan struct{})
	var order []int
	k := &sink{hook: func(f *schema.WsFrame) error {
		i, ok := field(f.Data, `{"i":`)
		if !ok {
			return errJunk
		}
		if i == 0 {
			close(entered)
			<-release // the slow handler
		}
		order = append(order, i) // the handler never runs concurrently with itself
		return nil
	}}
	opts := quickOptions()
	opts.PingInterval = 20 * time.Millisecond
	opts.PongTimeout = time.Second
	opts.IdleTimeout = time.Second
	opts.ControlRate = -1
	opts.HTTPClient = smallReceiveBuffer(t)
	h := start(t, v.url(), opts, k, leaks)

	<-entered
	h.rec.waitFor(t, "connected", connected(1))
	// Ten idle and pong timeouts pass on the client's clock, one watchdog
	// tick at a time, while the handler holds the first message.
	cn := h.live()
	require.NotNil(t, cn)
	tick := opts.IdleTimeout / 8
	for range 80 {
		before := cn.checks.Load()
		h.clock.advance(tick)
		require.Eventually(t, func() bool { return cn.checks.Load() > before }, wait, time.Millisecond, "watchdog tick")
	}
	t.Logf("venue sent %d of %d messages while the handler was blocked", sent.Load(), total)
	st := h.c.Stats()
	require.Less(t, sent.Load(), int64(total), "the venue was pushed back")
	require.EqualValues(t, 1, st.Messages, "one message read, the rest wait in TCP buffers")
	require.LessOrEqual(t, h.frames.Stats().PeakInUse, int64(1), "one frame held")
	require.Zero(t, st.TotalReconnects(), "slow handler taken for a dead venue")
	require.Equal(t, schema.ConnConnected, st.State)

	free()
	// 4 MB through -race on a loaded machine: a generous guard, not a pace.
	if !assert.Eventually(t, func() bool { return h.c.Stats().Messages == total }, 6*wait, time.Millisecond) {
		t.Fatalf("stats %+v sent %d events %v", h.c.Stats(), sent.Load(), h.rec.all())
	}
	require.Zero(t, h.c.Stats().TotalReconnects())
	require.Zero(t, h.rec.count(isState(schema.ConnDisconnected)))
	h.finish(v)
	require.Len(t, order, total)
	for i, n := range order {
		require.Equal(t, i, n, "in order, none lost")
	}
}

// smallReceiveBuffer is an HTTP client whose connections have a 64 KiB
// receive buffer (no autotuning), so that TCP pushes back early.
func smallReceiveBuffer(t *testing.T) *http.Client {
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10)
		})
		return errors.Join(err, serr)
	}}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// field parses the integer that follows prefix at the start of msg.
func field(msg []byte, prefix string) (int, bool) {
	if !strings.HasPrefix(string(msg), prefix) {
		return 0, false
	}
	n, i := 0, len(prefix)
	for ; i < len(msg) && msg[i] >= '0' && msg[i] <= '9'; i++ {
		n = n*10 + int(msg[i]-'0')
	}
	return n, i > len(prefix)
}
