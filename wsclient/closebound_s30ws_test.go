package wsclient

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// announcedClock is a host's fake clock on which a close handshake's
// bound (a timer of d, CloseTimeout) armed after the client announced the
// rotation's switch (its state already Connected again) is armed only
// once the gate opens: the scheduler ran the host's OnEvent goroutine,
// which moves the clock on that event, before the goroutine that arms it.
type announcedClock struct {
	*fakeClock
	d    time.Duration
	c    atomic.Pointer[Client]
	gate chan struct{}

	mu    sync.Mutex
	armed []time.Time // the clock's time at each timer of d
}

func (a *announcedClock) NewTimer(d time.Duration) Timer {
	if c := a.c.Load(); d == a.d && c != nil && c.State() == schema.ConnConnected && c.Stats().Rotations > 0 {
		<-a.gate
	}
	if d == a.d {
		a.mu.Lock()
		a.armed = append(a.armed, a.Now())
		a.mu.Unlock()
	}
	return a.fakeClock.NewTimer(d)
}

func (a *announcedClock) firstArmed() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.armed) == 0 {
		return time.Time{}
	}
	return a.armed[0]
}

// A host that moves its fake clock by CloseTimeout when it sees a
// rotation's Connected event gets the old connection closed, also when
// the venue never answers its close handshake: the handshake's bound is
// armed before the switch is announced. It was armed after, on the
// goroutine that stops the old connection, so a clock moved in between
// was moved for nothing: the old connection stayed open (its socket, its
// goroutines, Run's wait at Close) until the clock moved again or
// coder/websocket's own wall-clock bounds ended Conn.Close.
// TestS30RotatedOutCloseBoundArmedBeforeConnected failed before: the
// bound was armed after the clock moved (the connection was closed only
// by coder/websocket's wall-clock bounds, 5 s later).
func TestS30RotatedOutCloseBoundArmedBeforeConnected(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	second := make(chan struct{}) // connection 2 subscribed: the rotation is under way
	p := newRawPeer(t, func(pc *peerConn) {
		pc.readClient() // records the client's close frame, never answers it
		if pc.expectSubs() != nil {
			return
		}
		if pc.n == 1 {
			_ = pc.write(text(`{"x":0}`))
			select {
			case <-second:
			case <-pc.done:
				return
			}
			_ = pc.write(text(`{"x":1}`)) // sent on both during the overlap: the streams join on it
			pc.hold()
			return
		}
		close(second)
		_ = pc.write(text(`{"x":1}`), text(`{"x":2}`))
		select { // connection 2 answers the close handshake at the test's end
		case <-pc.closes:
			_ = pc.write(closeFrame(1000, ""))
		case <-pc.gone:
		case <-pc.done:
		}
	})
	const closeTimeout = 7 * time.Second
	ac := &announcedClock{fakeClock: newFakeClock(), d: closeTimeout, gate: make(chan struct{})}
	opts := rotationOptions()
	opts.CloseTimeout = closeTimeout
	opts.Clock = ac
	var once sync.Once
	var moved atomic.Pointer[time.Time]
	opts.OnEvent = func(ev Event) {
		if ev.State == schema.ConnConnected && ev.Reason == ReasonRotation && ev.Err == nil {
			once.Do(func() {
				at := ac.Now()
				moved.Store(&at)
				ac.advance(closeTimeout)
				close(ac.gate)
			})
		}
	}
	h := start(t, p.url(), opts, &sink{}, leaks)
	ac.c.Store(h.c)
	h.sink.waitFor(t, `{"x":0}`)
	require.NoError(t, h.c.Rotate())
	h.sink.waitFor(t, `{"x":0}`, `{"x":1}`, `{"x":2}`)
	h.rec.waitFor(t, "switched", func(ev Event) bool { return ev.State == schema.ConnConnected && ev.ConnID == 2 })
	// The close frame may or may not have gone out: the clock passed
	// CloseTimeout as the switch was announced.
	// The bound's timer: armed before the host moved the clock. (Armed
	// after, it never fired, and the socket was closed only by
	// coder/websocket's own wall-clock bounds of Conn.Close, 5 s each.)
	require.False(t, ac.firstArmed().IsZero(), "no close bound armed")
	require.False(t, ac.firstArmed().After(*moved.Load()), "the old connection's close bound was armed at %v, after the host moved the clock at %v on the switch's event", ac.firstArmed(), *moved.Load())
	recvWait(t, p.conn(1).gone, "the old connection closed by the client once the clock passed CloseTimeout")
	require.EqualValues(t, 1, h.c.Stats().Rotations)
	h.finish(nil, p.close)
}
