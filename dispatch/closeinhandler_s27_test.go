package dispatch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// S27: Close must not be called from a handler (SubscribeOptions.Handler):
// Close waits for every handler subscription, the caller's own included,
// which cannot finish while its handler is inside Close. A host that does
// it anyway (shutting down on a fatal execution report) must not hang for
// good: Close gives up when its context ends, reports the caller's
// subscription as still running, and once the handler returns its
// goroutine exits and nothing is left checked out.
func TestS27CloseFromAHandlerEndsWithItsContext(t *testing.T) {
	p := newEventPool(8)
	d := New(p, nil)
	other := &recorder{}
	_, err := d.Subscribe(Filter{Types: []schema.EventType{schema.EventTrade}}, &SubscribeOptions{Handler: other.handle})
	require.NoError(t, err)
	closed := make(chan error, 1)
	self, err := d.Subscribe(Filter{Types: []schema.EventType{schema.EventExecReport}}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {
		// A failure guard, not a timing: Close can only end by its context.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		closed <- d.Close(ctx)
	}})
	require.NoError(t, err)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 1)
	eventually(t, func() bool { return len(other.got()) == 1 }, "the trade delivered")
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 2)
	err = <-closed
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	require.True(t, errors.Is(err, context.DeadlineExceeded))
	require.Equal(t, 1, ce.Running, "the caller's own subscription, inside its handler")
	waitDone(t, self)
	require.Len(t, other.got(), 1)
	require.Zero(t, p.Stats().InUse)
}
