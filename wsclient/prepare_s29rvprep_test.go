package wsclient

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// greeter is a venue whose connection n sends {"hello":n} at once
// (connections up to quiet only), then {"x":n} for each {"op":"x"} it
// reads.
func greeter(t *testing.T, quiet int) *venue {
	return newVenue(t, func(s *session) {
		if s.n <= quiet && s.send(fmt.Sprintf(`{"hello":%d}`, s.n)) != nil {
			return
		}
		for {
			_, m, err := s.ws.Read(s.ctx)
			if err != nil {
				return
			}
			if string(m) == `{"op":"x"}` {
				_ = s.send(fmt.Sprintf(`{"x":%d}`, s.n))
			}
		}
	})
}

// overlapSink counts handler calls in flight: more than one at a time
// breaks the handler's contract (one call at a time).
type overlapSink struct {
	inFlight, overlaps atomic.Int32
}

func (o *overlapSink) enter() {
	if o.inFlight.Add(1) > 1 {
		o.overlaps.Add(1)
	}
}

func (o *overlapSink) leave() { o.inFlight.Add(-1) }

// A rotation with Prepare delivers the new connection's frames at once,
// under the lock; the old connection's reader may still be in a
// lock-free handler call it began before the rotation changed its mode.
// The new connection's first frame must wait for that call to end (as
// goLive does for an unprepared rotation): otherwise the handler runs
// twice at once. Before the fix the new connection's greeting reached the
// handler while the old connection's call was still blocked.
func TestS29rvPrepareWaitsForTheOldLockFreeCall(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := greeter(t, 1<<30)
	var o overlapSink
	blocked, release := make(chan struct{}), make(chan struct{})
	sawNew := make(chan struct{}, 1)
	k := &sink{hook: func(f *schema.WsFrame) error {
		o.enter()
		defer o.leave()
		switch string(f.Data) {
		case `{"hello":1}`:
			close(blocked)
			<-release
		case `{"hello":2}`:
			sawNew <- struct{}{}
		}
		return nil
	}}
	opts := rotationOptions()
	opts.Subscriptions = nil
	opts.Prepare = func(ctx context.Context, _ uint64, _ func(context.Context, []byte) error) error {
		select { // ready once the handler saw the new connection's greeting
		case <-sawNew:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	h := start(t, v.url(), opts, k, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	recvWait(t, blocked, "connection 1's greeting in the handler")
	old := h.live()
	require.NoError(t, h.c.Rotate())
	// Either the greeting of connection 2 reaches the handler while the
	// call on connection 1 still runs (the fault), or the reader of
	// connection 2 waits for that call (handlerAwaited).
	require.Eventually(t, func() bool {
		return o.overlaps.Load() > 0 || old.handling.Load() == handlerAwaited
	}, wait, time.Millisecond)
	close(release)
	h.rec.waitFor(t, "switched", func(ev Event) bool { return ev.State == schema.ConnConnected && ev.ConnID == 2 })
	require.Zero(t, o.overlaps.Load(), "the handler ran for connection 2 while connection 1's call was under way")
	h.sink.waitFor(t, `{"hello":1}`, `{"hello":2}`)
	h.finish(v)
}

// blockedIn reports whether a goroutine waits on a mutex inside fn.
func blockedIn(fn string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "sync.(*Mutex).Lock") && strings.Contains(g, fn) {
			return true
		}
	}
	return false
}

// A failed Prepare gives delivery back to the old connection, which then
// delivers lock-free; the new connection, not yet stopped (stopAside runs
// on a goroutine of its own), must deliver nothing more from then on: a
// frame it delivered under the lock while the old one delivered without
// it is two handler calls at once. Here the new connection's frame waits
// for the lock behind the rotation's abort (both blocked on the old
// connection's handler call, which holds it during the overlap). Before
// the fix that frame reached the handler after the abort, while the old
// connection was live again.
func TestS29rvFailedPrepareDeliversNothingMore(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := greeter(t, 1<<30)
	var old atomic.Pointer[conn]
	var afterAbort atomic.Int32
	inOld, release := make(chan struct{}), make(chan struct{})
	errRefused := errors.New("login refused")
	k := &sink{hook: func(f *schema.WsFrame) error {
		switch string(f.Data) {
		case `{"x":1}`:
			close(inOld)
			<-release
		case `{"x":2}`:
			if old.Load().mode.Load() == modeLive {
				afterAbort.Add(1)
			}
		}
		return nil
	}}
	opts := rotationOptions()
	opts.Subscriptions = nil
	var write2 func(context.Context, []byte) error
	prepared := make(chan struct{})
	opts.Prepare = func(_ context.Context, _ uint64, write func(context.Context, []byte) error) error {
		write2 = write
		close(prepared)
		<-inOld // the old connection's handler holds the lock
		return errRefused
	}
	h := start(t, v.url(), opts, k, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	h.sink.waitFor(t, `{"hello":1}`)
	old.Store(h.live())
	require.NoError(t, h.c.Rotate())
	recvWait(t, prepared, "Prepare called")
	h.sink.waitFor(t, `{"hello":2}`)
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"x"}`))) // to connection 1, in modeOverlap: under the lock
	recvWait(t, inOld, "connection 1's frame in the handler")
	require.Eventually(t, func() bool { return blockedIn("abortOverlap") }, wait, time.Millisecond, "the abort waits for the lock")
	require.NoError(t, write2(context.Background(), []byte(`{"op":"x"}`)))
	require.Eventually(t, func() bool { return blockedIn("deliverShared") }, wait, time.Millisecond, "connection 2's frame waits for the lock")
	close(release)
	ev := h.rec.waitFor(t, "rotation failed", isRotationFailed)
	require.ErrorIs(t, ev.Err, errRefused)
	require.Zero(t, afterAbort.Load(), "connection 2 delivered after the abort gave delivery back to connection 1")
	h.finish(v)
}

// The switch after Prepare waits for the old connection's lock-free call
// (goLive); the new connection's frames, delivered meanwhile under the
// lock, must wait for it too. Two waits at once on one call: the second
// found the call already awaited and did not wait. Here Prepare returns
// at once while connection 1's handler call, begun before the rotation,
// is still blocked; connection 2's first frame then comes. Before the fix
// it reached the handler during connection 1's call.
func TestS29rvPreparedSwitchWaitsOnceForTheOldCall(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := greeter(t, 1) // connection 2 sends nothing unasked
	var o overlapSink
	blocked, release := make(chan struct{}), make(chan struct{})
	k := &sink{hook: func(f *schema.WsFrame) error {
		o.enter()
		defer o.leave()
		if string(f.Data) == `{"hello":1}` {
			close(blocked)
			<-release
		}
		return nil
	}}
	opts := rotationOptions()
	opts.Subscriptions = nil
	var write2 func(context.Context, []byte) error
	opts.Prepare = func(_ context.Context, _ uint64, write func(context.Context, []byte) error) error {
		write2 = write
		return nil
	}
	h := start(t, v.url(), opts, k, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	recvWait(t, blocked, "connection 1's greeting in the handler")
	old := h.live()
	require.NoError(t, h.c.Rotate())
	require.Eventually(t, func() bool { return old.handling.Load() == handlerAwaited }, wait, time.Millisecond, "the switch waits for connection 1's call")
	require.NoError(t, write2(context.Background(), []byte(`{"op":"x"}`)))
	require.Eventually(t, func() bool {
		return o.overlaps.Load() > 0 || blockedIn("deliverShared")
	}, wait, time.Millisecond)
	close(release)
	h.sink.waitFor(t, `{"hello":1}`, `{"x":2}`)
	require.Zero(t, o.overlaps.Load(), "the handler ran for connection 2 while connection 1's call was under way")
	h.finish(v)
}

// The venue closes the new connection while Prepare waits for its login:
// Prepare's ctx ends with the connection, the rotation fails with a
// *PrepareError naming it and why it ended (the venue's close, not only
// context.Canceled: it was before the fix), and the old connection still
// serves.
func TestS29rvNewConnectionLostDuringPrepare(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	h, v, closed := startPrivate(t, leaks, func(ctx context.Context, id uint64, write func(context.Context, []byte) error, logins <-chan uint64) error {
		if err := write(ctx, []byte(`{"op":"bye"}`)); err != nil {
			return err
		}
		return login(ctx, id, func(context.Context, []byte) error { return nil }, logins)
	})
	require.NoError(t, h.c.Rotate())
	ev := h.rec.waitFor(t, "rotation failed", isRotationFailed)
	var pe *PrepareError
	require.ErrorAs(t, ev.Err, &pe)
	require.EqualValues(t, 2, pe.ConnID)
	require.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(ev.Err), "why connection 2 ended, not only that Prepare's ctx did: %v", ev.Err)
	require.Equal(t, 2, recvWait(t, closed, "connection 2 closed"))
	require.EqualValues(t, 1, h.c.Stats().ConnID)
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"report"}`)))
	h.sink.waitFor(t, `{"report":1}`)
	require.Zero(t, h.c.Stats().TotalReconnects())
	h.finish(v)
}

// MaxAge rotations of a private stream go through Prepare as requested
// ones do: two ages, two logins, each connection's report delivered.
func TestS29rvMaxAgeRotatesThroughPrepare(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	h, v, _ := startPrivate(t, leaks, login)
	for n := uint64(2); n <= 3; n++ {
		h.clock.advance(h.c.opts.MaxAge)
		h.rec.waitFor(t, "switched", func(ev Event) bool { return ev.State == schema.ConnConnected && ev.ConnID == n })
		require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"report"}`)))
		h.sink.waitFor(t, fmt.Sprintf(`{"login":"ok","conn":%d}`, n), fmt.Sprintf(`{"report":%d}`, n))
	}
	st := h.c.Stats()
	require.EqualValues(t, 2, st.Rotations)
	require.Zero(t, st.Unaligned)
	require.Zero(t, st.RotationDropped)
	h.finish(v)
}

// Rotate called again while Prepare runs names the old connection: once
// the switch is made, it is dropped (no third connection).
func TestS29rvRotateDuringPrepareCountsOnce(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	called := make(chan struct{}, 4)
	h, v, _ := startPrivate(t, leaks, func(ctx context.Context, id uint64, write func(context.Context, []byte) error, logins <-chan uint64) error {
		called <- struct{}{}
		return login(ctx, id, write, logins)
	})
	require.NoError(t, h.c.Rotate())
	recvWait(t, called, "Prepare called")
	require.NoError(t, h.c.Rotate())
	h.rec.waitFor(t, "switched", func(ev Event) bool { return ev.State == schema.ConnConnected && ev.ConnID == 2 })
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"report"}`)))
	h.sink.waitFor(t, `{"report":2}`)
	require.NoError(t, h.c.Rotate()) // connection 2's: served once
	recvWait(t, called, "Prepare called for connection 3")
	h.rec.waitFor(t, "switched", func(ev Event) bool { return ev.State == schema.ConnConnected && ev.ConnID == 3 })
	require.EqualValues(t, 2, h.c.Stats().Rotations)
	require.Len(t, called, 0, "Prepare called once a rotation")
	h.finish(v)
}

// A Prepare that ignores its ctx holds Run (as a handler that never
// returns does: Run waits for what it started), but Close stays bounded
// by its own ctx; once Prepare returns, Run ends and nothing is left.
func TestS29rvCloseBoundedWhilePrepareIgnoresCtx(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	called, release := make(chan struct{}), make(chan struct{})
	h, v, _ := startPrivate(t, leaks, func(context.Context, uint64, func(context.Context, []byte) error, <-chan uint64) error {
		close(called)
		<-release
		return nil
	})
	require.NoError(t, h.c.Rotate())
	recvWait(t, called, "Prepare called")
	ctx, cancel := context.WithCancel(context.Background())
	closed := make(chan error, 1)
	go func() { closed <- h.c.Close(ctx) }()
	require.Eventually(t, func() bool { return h.c.life.Err() != nil }, wait, time.Millisecond, "Close began")
	cancel()
	require.ErrorIs(t, recvWait(t, closed, "Close returned at its ctx's end"), context.Canceled)
	select {
	case err := <-h.runErr:
		t.Fatalf("Run returned while Prepare runs: %v", err)
	default:
	}
	close(release)
	h.finish(v)
}
