package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS33sessRESTTimeoutConfig: Config.RESTTimeout sets the bound of the
// session's REST calls on Client.Clock — here the instrument list at
// Start, the largest answer (a venue listing thousands of instruments
// over a slow link needs more than the default 10 s) — and a call it
// ends fails with ErrRESTTimeout, which wraps context.DeadlineExceeded.
// Before s33sess the bound was DefaultRESTTimeout, fixed: a 2,500-symbol
// list read under load failed it, and the host had no way to give more.
func TestS33sessRESTTimeoutConfig(t *testing.T) {
	const d = 45 * time.Second
	f := newFakePrivate(t, schema.VenueOKX, nil)
	clk := newManualClock()
	ep := f.endpoints()
	ep.REST = stalledREST(t, f, "/api/v5/public/instruments")
	cfg := session.Config{Venue: schema.VenueOKX, Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trades"},
		Key: &session.OKXKey{APIKey: "okx-key", Passphrase: "okx-pass", Secret: f.secret}, Client: fastRedial, RESTTimeout: d}
	cfg.Client.Clock = clk
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	started := make(chan error, 1)
	go func() {
		s, err := session.Start(ctx, cfg)
		if err == nil {
			_ = s.Close(ctx)
		}
		started <- err
	}()
	require.Eventually(t, func() bool { return clk.pendingOf(d) >= 1 }, generous, pollEvery,
		"the instrument list's deadline is RESTTimeout on Client.Clock")
	clk.fireAfter(d)
	err := <-started
	require.ErrorIs(t, err, session.ErrRESTTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), d.String(), "the error says the bound")
	assert.NoError(t, ctx.Err(), "ended by the session's clock, not the caller's ctx")
}

// TestS33sessRESTTimeoutNegativeRefused: a negative RESTTimeout is a
// mistake, not "unbounded" (several REST calls run on the session's own
// context, which only Close ends): Start refuses it with ErrConfig.
func TestS33sessRESTTimeoutNegativeRefused(t *testing.T) {
	_, err := session.Start(context.Background(), session.Config{Venue: schema.VenueOKX,
		Endpoints: session.Endpoints{Stream: "ws://127.0.0.1:1"}, RESTTimeout: -time.Second})
	require.ErrorIs(t, err, session.ErrConfig)
}
