package pipeline

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/wsclient"
)

// A venue out of reach (it takes the TCP connection and never answers
// the upgrade: every dial times out), then Ctrl-C: that is "never
// connected", a failure, not an interrupt during the first dial (which
// Connect reports as context.Canceled, status 0). A guard: the dial
// timeout's error (net/http reports the cause of wsclient's cancelled dial
// context) matches DeadlineExceeded and not Canceled, so it held.
func TestS25rvDialTimeoutThenInterruptIsNeverConnected(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	held := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(held)
				return
			}
			held <- c // held open, never answered
		}
	}()
	defer func() {
		ln.Close()
		for c := range held {
			c.Close()
		}
	}()
	v, err := Lookup("binance")
	require.NoError(t, err)
	p, err := New(Config{Venue: v})
	require.NoError(t, err)
	defer func() { require.NoError(t, p.Close(context.Background())) }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timedOut := make(chan struct{}, 1)
	_, err = func() (wsclient.Stats, error) {
		go func() {
			select {
			case <-timedOut:
			case <-time.After(60 * time.Second):
			}
			cancel() // Ctrl-C, once a dial has timed out
		}()
		return p.Connect(ctx, ClientConfig{
			URL: "ws://" + ln.Addr().String(), DialTimeout: 50 * time.Millisecond,
			OnState: func(e wsclient.Event) {
				if e.Err != nil {
					select {
					case timedOut <- struct{}{}:
					default:
					}
				}
			},
		}, v.Name)
	}()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrNeverConnected, "%v", err)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the dial timeout is the reason: %v", err)
	assert.NotErrorIs(t, err, context.Canceled, "no interrupt: %v", err)
}
