package wsclient

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// Coinbase Advanced Trade allows 8 unauthenticated messages per second
// per IP ("WebSocket Rate Limits"): pacing each connection cannot keep
// it beyond a few connections (three clients at ControlRate 4 send 12 a
// second). One MessageLimit shared by the clients of the IP does: a peer
// that counts, on the injected clock, the frames of three clients (three
// subscriptions each, each client's own budget off and then on) sees
// them at least 1/8 s apart, so no second holds more than 8, and every
// client's subscriptions sent.
func TestS35wsMessageLimitSharedAcrossClients(t *testing.T) {
	for _, own := range []float64{-1, 4} {
		t.Run("ControlRate "+map[bool]string{true: "off", false: "4"}[own < 0], func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			clk := newFakeClock()
			clk.blockSlp = true // the test moves time, one gap at a time
			log := &frameLog{}
			var sent atomic.Uint64
			p := newRawPeer(t, countingVenue(clk, log, 0, &sent))
			const rate = 8
			gap := time.Second / rate
			limit := NewMessageLimit(rate, clk)
			t0 := clk.Now()
			var hs []*harness
			for range 3 {
				opts := peerOptions()
				opts.ControlRate = own
				opts.Clock = clk
				opts.MessageLimit = limit
				opts.Subscriptions = nil
				for _, m := range threeSubs {
					opts.Subscriptions = append(opts.Subscriptions, []byte(m))
				}
				h := start(t, p.url(), opts, &sink{}, leaks)
				h.clock = clk
				hs = append(hs, h)
			}
			all := func(fs []stamped) bool { return len(fs) == 9 }
			if own > 0 {
				// A client's own budget (1/4 s) may leave a slot of the
				// shared one empty: step to wherever the next frame waits.
				stepShared(t, clk, log, t0, gap, all)
			} else {
				steps := paceSteps(t, hs[0], log, t0, gap, func() bool { return true }, all)
				require.Equal(t, 8, steps, "9 frames take 8 gaps: %v", log.all())
			}
			frames := log.all()
			requireSpaced(t, frames, gap)
			for _, f := range frames {
				n := 0
				for _, g := range frames {
					if !g.at.Before(f.at) && g.at.Before(f.at.Add(time.Second)) {
						n++
					}
				}
				require.LessOrEqual(t, n, rate, "frames in the second from %v: %v", f.at, frames)
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			for _, h := range hs[1:] {
				require.NoError(t, h.close(ctx))
				require.NoError(t, recvWait(t, h.runErr, "Run's end"))
			}
			hs[0].finish(nil, p.close)
		})
	}
}

// stepShared moves clk on, from t0, to the earliest instant a frame
// waits for (a multiple of gap: the shared budget's slots, which the
// clients' own budgets of 2 gaps fall on too), until done holds. The
// shared budget lets one frame go at each such instant, and one at t0:
// before each move it waits for every frame sent so far to reach the
// peer, so that each is stamped with the instant it was sent at.
func stepShared(t *testing.T, clk *fakeClock, log *frameLog, t0 time.Time, gap time.Duration, done func([]stamped) bool) {
	t.Helper()
	for sent := 1; ; sent++ {
		require.Less(t, sent, 200, "not done after 200 gaps; frames %v", log.all())
		require.Eventually(t, func() bool { return len(log.all()) >= sent }, wait, time.Millisecond,
			"frame %d never came; frames %v", sent, log.all())
		if done(log.all()) {
			return
		}
		var next time.Time
		require.Eventually(t, func() bool {
			for j := 1; j <= 4; j++ {
				if at := clk.Now().Add(time.Duration(j) * gap); clk.armedAt(at) {
					next = at
					return true
				}
			}
			return false
		}, wait, time.Millisecond, "nobody waits for a slot after frame %d; frames %v", sent, log.all())
		require.Zero(t, next.Sub(t0)%gap, "a slot of the shared budget")
		clk.advance(next.Sub(clk.Now()))
	}
}
