package contracttest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Contract 5 (DESIGN.md; wsclient Options.IdleTimeout): a connection that
// stops delivering data is detected, closed, redialled after the backoff
// it announces and resubscribed, and every state change reaches the host.
// The venue here keeps the socket open and answers the close handshake,
// but sends nothing: only the idle watchdog, on the injected clock, can
// notice.
func TestS45ctSilentConnectionRedialled(t *testing.T) {
	const idle = 5 * time.Second
	subscribe := []byte(`{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1}`)
	p, _ := startPipeline(t, func(o *wsclient.Options) {
		o.IdleTimeout = idle
		o.PingInterval = -1
		o.Subscriptions = [][]byte{subscribe}
		o.Rand = func(n int64) int64 { return n / 2 }
		o.BackoffBase, o.BackoffCap = time.Hour, time.Hour // see advanceUntil
	})
	connected := p.clock.Now()
	require.Eventually(t, func() bool { return p.venue.receivedCount(subscribe) == 1 }, waitFor, time.Millisecond)

	// The watchdog samples the reader's wait (wsclient doc: "counting only
	// the time the reader spends waiting on the socket"), and a sample
	// taken before the reader is back in its read, which a clock moved at
	// once may catch under load, does not count: the bound is loose, the
	// check that it is not early is not.
	lost := p.advanceUntil(t, schema.ConnDisconnected, 2*idle)
	assert.Equal(t, wsclient.ReasonIdle, lost.Reason)
	assert.True(t, errors.Is(lost.Err, wsclient.ErrIdle), "%v", lost.Err)
	assert.Equal(t, uint64(1), lost.ConnID)
	assert.GreaterOrEqual(t, lost.At.Sub(connected), idle, "declared idle before IdleTimeout of silence")

	redial := p.waitState(t, schema.ConnReconnecting)
	assert.Equal(t, 1, redial.Attempt)
	require.Positive(t, redial.Delay, "the backoff is a wait on the clock")
	p.clock.Advance(redial.Delay)

	p.venue.next(t)
	back := p.waitState(t, schema.ConnConnected)
	assert.Equal(t, uint64(2), back.ConnID)
	require.Eventually(t, func() bool { return p.venue.receivedCount(subscribe) == 2 }, waitFor, time.Millisecond,
		"the new connection was not resubscribed")
	assert.Equal(t, uint64(1), p.client.Stats().Reconnects[wsclient.ReasonIdle])
}

// Contract 5, ping/pong (DESIGN.md; wsclient Options.PingInterval,
// PongTimeout): a venue that keeps the socket open but answers nothing —
// not even a ping — is detected by the unanswered ping, on the injected
// clock, and the loss reported with its typed error.
func TestS45ctUnansweredPingDetected(t *testing.T) {
	const ping, pong = 15 * time.Second, 10 * time.Second
	p, _ := startPipelineOn(t, startVenue(t, true), func(o *wsclient.Options) {
		o.PingInterval = ping
		o.PongTimeout = pong
		o.IdleTimeout = 24 * time.Hour // only the ping may notice
		o.BackoffBase, o.BackoffCap = time.Hour, time.Hour
	})
	connected := p.clock.Now()
	lost := p.advanceUntil(t, schema.ConnDisconnected, 2*(ping+pong))
	assert.Equal(t, wsclient.ReasonPongTimeout, lost.Reason)
	assert.True(t, errors.Is(lost.Err, wsclient.ErrPongTimeout), "%v", lost.Err)
	assert.GreaterOrEqual(t, lost.At.Sub(connected), ping+pong, "declared lost before the ping went unanswered for PongTimeout")
	assert.Equal(t, uint64(1), p.client.Stats().Reconnects[wsclient.ReasonPongTimeout])
}
