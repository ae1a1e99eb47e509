package wsclient

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// A venue (or a load balancer with no healthy backend) that completes the
// handshake and closes at once, again and again: a successful handshake
// is not a healthy connection, so the backoff keeps growing (attempts 1,
// 2, 3… up to BackoffCap) instead of starting over at every 101. Only a
// connection that lived BackoffReset resets it (TestBackoffSchedule).
// (Held.)
func TestHandshakeThenCloseKeepsBackingOff(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	const closes = 5
	p := newRawPeer(t, func(pc *peerConn) {
		if pc.n <= closes {
			_ = pc.write(closeFrame(1000, "no backend"))
			_, _ = pc.br.Discard(1 << 20) // until the client closes
			return
		}
		steadyPeer(pc)
	})
	opts := peerOptions()
	opts.BackoffBase = 100 * time.Millisecond
	opts.BackoffCap = 800 * time.Millisecond
	opts.Rand = func(n int64) int64 { return n - 1 } // the top of the jitter range
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, fmt.Sprintf(`{"conn":%d}`, closes+1))
	// Events reach OnEvent on a goroutine of their own, behind the frames:
	// the last connection's Connected comes after every redial's event.
	h.rec.waitFor(t, "connected", connected(closes+1))
	var attempts []int
	var delays []time.Duration
	for _, ev := range h.rec.all() {
		if ev.State == schema.ConnReconnecting {
			attempts = append(attempts, ev.Attempt)
			delays = append(delays, ev.Delay)
		}
	}
	ms := time.Millisecond
	require.Equal(t, []int{1, 2, 3, 4, 5}, attempts)
	require.Equal(t, []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 800 * ms}, delays)
	h.finish(nil, p.close)
}

// A venue restart sends every client away at once with 1013 (try again
// later): clients with the default random source come back spread over
// [TryAgainDelay, 1.25·TryAgainDelay], not together (RFC 6455 §7.2.3:
// clients "SHOULD use some form of backoff" and randomize it, so that
// reconnections do not overload a server that just came back). (Held.)
func TestReconnectStormSpread(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	const clients = 8
	p := newRawPeer(t, func(pc *peerConn) {
		pc.readClient()
		if pc.expectSubs() != nil {
			return
		}
		_ = pc.write(closeFrame(1013, "restarting"))
		pc.hold()
	})
	var mu sync.Mutex
	delays := map[time.Duration]bool{}
	var hs []*harness
	for range clients {
		opts := peerOptions()
		opts.Rand = nil // the default, math/rand/v2
		fc := newFakeClock()
		fc.blockSlp = true // each client waits out its delay
		opts.Clock = fc
		h := start(t, p.url(), opts, &sink{}, goleak.IgnoreCurrent())
		h.clock = fc
		hs = append(hs, h)
	}
	for _, h := range hs {
		re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
		require.GreaterOrEqual(t, re.Delay, DefaultTryAgainDelay)
		require.LessOrEqual(t, re.Delay, DefaultTryAgainDelay+DefaultTryAgainDelay/4)
		mu.Lock()
		delays[re.Delay] = true
		mu.Unlock()
	}
	require.Len(t, delays, clients, "clients sent away together come back at distinct times")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for _, h := range hs {
		require.NoError(t, h.close(ctx))
		require.NoError(t, recvWait(t, h.runErr, "Run"))
	}
	p.close()
	goleak.VerifyNone(t, leaks)
}
