package session

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// TestS34leadQueryFailureCountedWhenThePassEnds: a reconciliation query
// the venue refused (an HTTP 503) just as a newer pass cancelled this one
// is a failure of the query, counted in ReconcileErrors, and not tried
// again; a query cut short by the pass's own end is none. The CI's
// TestS33ctBybitReconcileQueryFailsOnce saw the 503 go uncounted.
func TestS34leadQueryFailureCountedWhenThePassEnds(t *testing.T) {
	clk := &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(1700000000, 0)}
	s := &Session{spec: venues[schema.VenueBybit]}
	s.cfg.Client = wsclient.Options{Clock: clk}
	r := newReconciler(s, &fakeBackend{rules_: bybitRefusals})
	key := orderKey{symbol: "BTC-USDT", id: schema.MustID("1")}

	ctx, cancel := context.WithCancel(context.Background())
	tries := 0
	err := r.ask(ctx, "order", key, 1, func() error {
		tries++
		cancel() // a newer pass takes over while the venue's refusal is on its way
		return fmt.Errorf("bybit: HTTP 503")
	})
	require.Error(t, err)
	assert.Equal(t, 1, tries, "not tried again once the pass ended")
	assert.Equal(t, uint64(1), r.errs.Load(), "the venue's refusal counted")

	ctx, cancel = context.WithCancel(context.Background())
	err = r.ask(ctx, "order", key, 1, func() error {
		cancel()
		return fmt.Errorf("bybit: order query: %w", context.Canceled)
	})
	require.True(t, errors.Is(err, context.Canceled))
	assert.Equal(t, uint64(1), r.errs.Load(), "a query cut short by the pass's end is no failure")
}
