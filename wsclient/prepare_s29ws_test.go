package wsclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// privateVenue is a venue whose connections send nothing until a login:
// it answers {"op":"login"} with {"login":"ok","conn":n}, then sends
// {"report":n} for each {"op":"report"}, and closes the connection on
// {"op":"bye"}. closed receives n when
// connection n ends.
func privateVenue(t *testing.T) (*venue, chan int) {
	closed := make(chan int, 16)
	v := newVenue(t, func(s *session) {
		defer func() { closed <- s.n }()
		for {
			_, m, err := s.ws.Read(s.ctx)
			if err != nil {
				return
			}
			switch string(m) {
			case `{"op":"login"}`:
				_ = s.send(fmt.Sprintf(`{"login":"ok","conn":%d}`, s.n))
			case `{"op":"report"}`:
				_ = s.send(fmt.Sprintf(`{"report":%d}`, s.n))
			case `{"op":"bye"}`:
				_ = s.ws.Close(websocket.StatusGoingAway, "bye")
				return
			}
		}
	})
	return v, closed
}

// startPrivate starts a client of privateVenue whose Prepare is prepare;
// logins receives the ConnID of every login answer the handler saw.
func startPrivate(t *testing.T, leaks goleak.Option, prepare func(ctx context.Context, id uint64, write func(context.Context, []byte) error, logins <-chan uint64) error) (*harness, *venue, chan int) {
	v, closed := privateVenue(t)
	logins := make(chan uint64, 16)
	k := &sink{hook: func(f *schema.WsFrame) error {
		if strings.HasPrefix(string(f.Data), `{"login":"ok"`) {
			logins <- f.ConnID
		}
		return nil
	}}
	opts := rotationOptions()
	opts.Subscriptions = nil
	opts.Prepare = func(ctx context.Context, id uint64, write func(context.Context, []byte) error) error {
		return prepare(ctx, id, write, logins)
	}
	h := start(t, v.url(), opts, k, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	return h, v, closed
}

// login is a Prepare that logs the new connection in and waits for the
// answer, which the handler sees.
func login(ctx context.Context, id uint64, write func(context.Context, []byte) error, logins <-chan uint64) error {
	if err := write(ctx, []byte(`{"op":"login"}`)); err != nil {
		return err
	}
	for {
		select {
		case got := <-logins:
			if got == id {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func isRotationFailed(ev Event) bool {
	return ev.State == schema.ConnConnected && ev.Reason == ReasonRotation && ev.ConnID == 1 && ev.Err != nil
}

// A private stream sends nothing before its login, so a rotation that
// waits for the new connection's first message cannot serve it (a
// venue's planned disconnect then means a break). With Options.Prepare
// the new connection is logged in before the switch: its answer reaches
// the handler while the old connection still delivers, the switch follows
// Prepare's return, and nothing is reported unaligned.
func TestS29PrepareLogsInBeforeTheSwitch(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	h, v, closed := startPrivate(t, leaks, login)
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"report"}`)))
	h.sink.waitFor(t, `{"report":1}`)
	require.NoError(t, h.c.Rotate())
	sw := h.rec.waitFor(t, "switched", func(ev Event) bool { return ev.State == schema.ConnConnected && ev.ConnID == 2 })
	require.Equal(t, ReasonRotation, sw.Reason)
	require.NoError(t, sw.Err)
	require.Equal(t, 1, recvWait(t, closed, "connection 1 closed"), "connection 1 retired")
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"report"}`)))
	h.sink.waitFor(t, `{"report":1}`, `{"login":"ok","conn":2}`, `{"report":2}`)
	st := h.c.Stats()
	require.EqualValues(t, 1, st.Rotations)
	require.Zero(t, st.Unaligned)
	require.Zero(t, st.RotationDropped)
	require.Zero(t, st.TotalReconnects())
	h.finish(v)
}

// A Prepare that fails keeps the old connection (Write still reaches it),
// closes the new one and reports a *PrepareError naming it, as a failed
// rotation is reported (Connected on the old connection with the error).
func TestS29PrepareErrorKeepsTheOldConnection(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	errRefused := errors.New("login refused")
	h, v, closed := startPrivate(t, leaks, func(context.Context, uint64, func(context.Context, []byte) error, <-chan uint64) error {
		return errRefused
	})
	require.NoError(t, h.c.Rotate())
	requirePrepareFailed(t, h, closed, errRefused)
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"report"}`)))
	h.sink.waitFor(t, `{"report":1}`)
	require.Zero(t, h.c.Stats().Rotations)
	h.finish(v)
}

// A Prepare that never returns of itself is bounded by RotationOverlap on
// the Clock: its ctx ends then, and the rotation fails with the deadline.
func TestS29PrepareBoundedOnTheClock(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	called := make(chan struct{}, 1)
	h, v, closed := startPrivate(t, leaks, func(ctx context.Context, _ uint64, _ func(context.Context, []byte) error, _ <-chan uint64) error {
		called <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	require.NoError(t, h.c.Rotate())
	recvWait(t, called, "Prepare called")
	h.clock.advance(h.c.opts.RotationOverlap)
	requirePrepareFailed(t, h, closed, context.DeadlineExceeded)
	h.finish(v)
}

// Close while Prepare runs: Prepare's ctx ends, Run returns, nothing is
// left running (goleak) and every frame is back.
func TestS29CloseDuringPrepare(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	called := make(chan struct{}, 1)
	h, v, _ := startPrivate(t, leaks, func(ctx context.Context, id uint64, write func(context.Context, []byte) error, logins <-chan uint64) error {
		called <- struct{}{}
		return login(ctx, id, func(context.Context, []byte) error { return nil }, logins) // never logs in: waits for ctx
	})
	require.NoError(t, h.c.Rotate())
	recvWait(t, called, "Prepare called")
	h.finish(v)
	require.Zero(t, h.rec.count(isRotationFailed), "a rotation given up for Close is no failure to report")
}

// The old connection lost while Prepare runs is reported when it is lost
// (Disconnected: a possible gap), not when Prepare returns; once Prepare
// returns, the new connection is the reconnection.
func TestS29OldLostDuringPrepare(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	release := make(chan struct{})
	h, v, closed := startPrivate(t, leaks, func(ctx context.Context, _ uint64, _ func(context.Context, []byte) error, _ <-chan uint64) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	require.NoError(t, h.c.Rotate())
	require.Eventually(t, func() bool { return h.rec.count(isState(schema.ConnRotating)) == 1 }, wait, time.Millisecond)
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"bye"}`)))
	require.Equal(t, 1, recvWait(t, closed, "connection 1 closed by the venue"))
	lost := h.rec.waitFor(t, "connection 1 lost while Prepare runs", func(ev Event) bool {
		return ev.State == schema.ConnDisconnected && ev.ConnID == 1
	})
	require.Equal(t, ReasonPeerClosed, lost.Reason)
	close(release)
	h.rec.waitFor(t, "connection 2 up", func(ev Event) bool { return ev.State == schema.ConnConnected && ev.ConnID == 2 })
	h.finish(v)
}

// requirePrepareFailed waits for the rotation to connection 2 to fail with
// a *PrepareError matching want, connection 2 closed and 1 kept.
func requirePrepareFailed(t *testing.T, h *harness, closed <-chan int, want error) {
	t.Helper()
	ev := h.rec.waitFor(t, "rotation failed", isRotationFailed)
	var pe *PrepareError
	require.ErrorAs(t, ev.Err, &pe)
	require.EqualValues(t, 2, pe.ConnID)
	require.ErrorIs(t, ev.Err, want)
	require.Equal(t, 2, recvWait(t, closed, "connection 2 closed"))
	require.EqualValues(t, 1, h.c.Stats().ConnID)
}
