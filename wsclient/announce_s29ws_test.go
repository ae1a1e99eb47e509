package wsclient

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// gatedClock is a host's fake clock whose waits (Sleep) begin only once
// the gate opens: the scheduler ran the host's OnEvent goroutine before
// the client's went on from its announcement to its wait.
type gatedClock struct {
	fc   *fakeClock
	gate chan struct{}
}

func (g *gatedClock) Now() time.Time { return g.fc.Now() }
func (g *gatedClock) Sleep(ctx context.Context, d time.Duration) error {
	<-g.gate
	return g.fc.Sleep(ctx, d)
}
func (g *gatedClock) NewTimer(d time.Duration) Timer { return g.fc.NewTimer(d) }
func (g *gatedClock) AfterFunc(d time.Duration, f func()) Timer {
	return g.fc.AfterFunc(d, f)
}

// gatedUntilClock is a gatedClock with SleepUntil, gated as Sleep is.
type gatedUntilClock struct{ *gatedClock }

func (g gatedUntilClock) SleepUntil(ctx context.Context, at time.Time) error {
	<-g.gate
	return g.fc.SleepUntil(ctx, at)
}

// A host's test that moves its fake clock by the Delay of a Reconnecting
// event when it sees it (the natural thing) gets the redial: the backoff
// is armed before it is announced. It was announced first and armed by
// Clock.Sleep after, so a clock moved in between made the client sleep a
// whole Delay from the moved time: the client waited for ever.
// TestS29BackoffArmedBeforeReconnecting failed before (no connection 2).
func TestS29BackoffArmedBeforeReconnecting(t *testing.T) {
	for name, until := range map[string]bool{"minimal clock": false, "clock with SleepUntil": true} {
		t.Run(name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			v := newVenue(t, func(s *session) {
				if s.n == 1 {
					_ = s.ws.Close(websocket.StatusGoingAway, "bye")
					return
				}
				for s.readN(1) == nil {
				}
			})
			fc := newFakeClock()
			fc.blockSlp = true
			g := &gatedClock{fc: fc, gate: make(chan struct{})}
			opts := quickOptions()
			opts.PingInterval = -1
			opts.CloseTimeout = -1
			opts.ControlRate = -1 // no paced wait but the backoff behind the gate
			opts.BackoffBase, opts.BackoffCap = time.Second, time.Second
			opts.Rand = func(n int64) int64 { return n - 1 } // the whole second
			opts.Clock = g
			if until {
				opts.Clock = gatedUntilClock{g}
			}
			var once sync.Once
			opts.OnEvent = func(ev Event) {
				if ev.State == schema.ConnReconnecting {
					once.Do(func() {
						fc.advance(ev.Delay)
						close(g.gate)
					})
				}
			}
			h := start(t, v.url(), opts, &sink{}, leaks)
			h.clock = fc
			re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
			require.Equal(t, time.Second, re.Delay)
			h.rec.waitFor(t, "connected on 2 with the clock moved by Delay once", connected(2))
			h.finish(v)
		})
	}
}
