package wsclient

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// OKX allows 3 connection requests per second per IP ("Connection limit:
// 3 requests per second (based on IP)", OKX v5 "WebSocket", "Connect"),
// Binance 300 connections per 5 minutes per IP ("WebSocket Limits"). Each
// client dialled on its own: clients started together (one per part of
// SplitTopics, a market and a private stream) or redialling together
// after the venue dropped them all made 4 handshakes in the same instant,
// and the venue refuses the 4th (429: a floor of BackoffCap, 30 s without
// data). Clients that share a DialLimit begin their handshakes at least
// 1/rate apart, on its Clock.
func TestDialLimitSharedByClients(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	clk := newFakeClock()
	clk.blockSlp = true
	var mu sync.Mutex
	var stamps []time.Time
	p := newRawPeer(t, func(pc *peerConn) {
		pc.readClient()
		pc.hold()
	})
	p.answer = func(w io.Writer, _ int, key string) bool {
		mu.Lock()
		stamps = append(stamps, clk.Now())
		mu.Unlock()
		return answer101(w, key)
	}
	handshakes := func() []time.Time {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Time(nil), stamps...)
	}
	limit := NewDialLimit(3, clk)
	gap := time.Second / 3
	t0 := clk.Now()
	var hs []*harness
	for range 4 {
		opts := peerOptions()
		opts.Subscriptions = nil
		opts.Clock = clk
		opts.DialLimit = limit
		h := start(t, p.url(), opts, &sink{}, goleak.IgnoreCurrent())
		h.clock = clk
		hs = append(hs, h)
	}
	for k := 0; ; k++ {
		require.Eventually(t, func() bool { return len(handshakes()) >= k+1 }, wait, time.Millisecond, "no handshake in slot %d", k)
		if len(handshakes()) == 4 {
			break
		}
		next := t0.Add(time.Duration(k+1) * gap)
		require.Eventually(t, func() bool { return clk.armedAt(next) }, wait, time.Millisecond, "nobody waits for slot %d", k+1)
		clk.advance(gap)
	}
	got := handshakes()
	for i := 1; i < len(got); i++ {
		require.GreaterOrEqual(t, got[i].Sub(got[i-1]), gap, "handshakes %v", got)
	}
	require.Equal(t, t0.Add(3*gap), clk.Now(), "4 handshakes take 3 gaps")
	for _, h := range hs {
		h.rec.waitFor(t, "connected", connected(1))
	}
	for _, h := range hs {
		require.NoError(t, h.close(context.Background()))
		require.NoError(t, recvWait(t, h.runErr, "Run"))
	}
	p.close()
	goleak.VerifyNone(t, leaks)
}
