package wsclient

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// silentTLSVenue accepts TCP connections and reads the ClientHello, then
// answers nothing: a venue (or its load balancer) stuck in the TLS
// handshake. conns counts accepted connections, gone those the client
// closed.
type silentTLSVenue struct {
	ln    net.Listener
	mu    sync.Mutex
	held  []net.Conn
	wg    sync.WaitGroup
	conns atomic.Int32
	gone  atomic.Int32
}

func newSilentTLSVenue(t *testing.T) *silentTLSVenue {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	v := &silentTLSVenue{ln: ln}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			v.conns.Add(1)
			v.mu.Lock()
			v.held = append(v.held, c)
			v.mu.Unlock()
			v.wg.Add(1)
			go func() {
				defer v.wg.Done()
				_, _ = io.Copy(io.Discard, c)
				v.gone.Add(1)
			}()
		}
	}()
	return v
}

func (v *silentTLSVenue) stop() {
	_ = v.ln.Close()
	v.mu.Lock()
	for _, c := range v.held {
		_ = c.Close()
	}
	v.mu.Unlock()
	v.wg.Wait()
}

// A wss:// venue that accepts TCP but never answers the TLS handshake:
// the dial ends at DialTimeout, and so must its connection. net/http
// runs its dials detached from the request (a dial may serve a later
// request) and bounds the TLS handshake only by the transport's
// TLSHandshakeTimeout, which a host's own transport may leave at zero:
// every redial during such an outage then left a socket and net/http's
// dialing goroutines behind, until Close.
func TestDialSilentTLSVenueLeavesNoSocket(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newSilentTLSVenue(t)
	defer v.stop()
	tr := ownHTTPClient().Transport.(*http.Transport)
	tr.TLSHandshakeTimeout = 0 // a host transport built as &http.Transport{...}
	fc := newFakeClock()
	fc.blockSlp = true
	opts := peerOptions()
	opts.HTTPClient = &http.Client{Transport: tr}
	opts.Clock = fc
	opts.DialTimeout = 5 * time.Second
	h := start(t, "wss://"+v.ln.Addr().String()+"/ws", opts, &sink{}, leaks)
	h.clock = fc
	for n := int32(1); n <= 3; n++ {
		require.Eventually(t, func() bool { return v.conns.Load() == n }, wait, time.Millisecond)
		require.Eventually(t, func() bool { return fc.armedAt(fc.Now().Add(opts.DialTimeout)) }, wait, time.Millisecond)
		fc.advance(opts.DialTimeout)
		re := h.rec.waitFor(t, "reconnecting", func(ev Event) bool { return ev.State == schema.ConnReconnecting && ev.Attempt == int(n) })
		require.Equal(t, ReasonDial, re.Reason)
		require.ErrorIs(t, re.Err, context.DeadlineExceeded)
		require.Eventually(t, func() bool { return v.gone.Load() == n }, wait, time.Millisecond,
			"dial %d timed out but its TCP connection is still open (%d closed)", n, v.gone.Load())
		require.Eventually(t, func() bool { return len(fc.sleepingUntil()) == int(n) }, wait, time.Millisecond)
		fc.advanceTo(fc.sleepingUntil()[n-1])
	}
	h.finish(nil, v.stop, tr.CloseIdleConnections)
}
