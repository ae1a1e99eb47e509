package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// stalledREST serves f's REST API but never answers the paths in stall
// (their requests wait until the caller gives up or the test ends): the
// REST base of a session whose calls must end on its own clock.
func stalledREST(t *testing.T, f *fakePrivate, stall ...string) string {
	t.Helper()
	quit := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range stall {
			if r.URL.Path == p {
				select {
				case <-r.Context().Done():
				case <-quit:
				}
				return
			}
		}
		f.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { close(quit); srv.Close() })
	return srv.URL
}

// TestS31StartRESTDeadlineOnSessionClock: at Start the instrument list
// and the clock offset's measure are REST calls; a venue that never
// answers one holds Start until DefaultRESTTimeout has passed on
// Config.Client.Clock, as every other wait of the session (a test's or a
// simulation's clock), and Start then fails with an error wrapping
// context.DeadlineExceeded. Before s31sess both ran on the wall clock:
// with an injected clock Start stalled for the real 10 s whatever the
// clock said, and no timer of the clock bounded it (this test's wait for
// one failed).
func TestS31StartRESTDeadlineOnSessionClock(t *testing.T) {
	for _, tc := range []struct{ name, path string }{
		{"instruments", "/api/v5/public/instruments"},
		{"server time", "/api/v5/public/time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakePrivate(t, schema.VenueOKX, nil)
			clk := newManualClock()
			ep := f.endpoints()
			ep.REST = stalledREST(t, f, tc.path)
			cfg := session.Config{Venue: schema.VenueOKX, Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trades"},
				Key: &session.OKXKey{APIKey: "okx-key", Passphrase: "okx-pass", Secret: f.secret}, Client: fastRedial}
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
			// Fired until Start ends: the instrument list's deadline, a
			// timer of the same 10 s, stays pending from its answer until
			// the call stopped it; fired then (a loaded machine), it ends
			// nothing, and the clock offset's deadline, armed after, was
			// never fired (Start then ran out the test's ctx).
			var err error
			clk.fireUntil(t, session.DefaultRESTTimeout, func() bool {
				select {
				case err = <-started:
					return true
				default:
					return false
				}
			}, "Start ended by the REST call's deadline on Client.Clock")
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.NoError(t, ctx.Err(), "ended by the session's clock, not the caller's ctx")
		})
	}
}

// TestS31KrakenTokenDeadlineOnSessionClock: Kraken's private connection
// fetches a WebSocket token (REST GetWebSocketsToken) before it
// subscribes; a venue that never answers fails that login step once
// DefaultRESTTimeout has passed on Client.Clock (a *LoginError, Step
// "token", wrapping context.DeadlineExceeded), after which the session
// tries again after its backoff. Before s31sess the fetch ran on the wall
// clock: no timer of the session's clock bounded it.
func TestS31KrakenTokenDeadlineOnSessionClock(t *testing.T) {
	c := privateCases(t)[2]
	require.Equal(t, schema.VenueKraken, c.venue)
	f := newFakePrivate(t, c.venue, nil)
	clk := newManualClock()
	now := time.Now
	cfg := c.config(f, now)
	cfg.Endpoints.REST = stalledREST(t, f, "/0/private/GetWebSocketsToken")
	cfg.Client.Clock = clk
	s := start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.WaitOrdersReady(ctx) }()
	// Fired until the login fails: another timer of the same 10 s (a
	// dial's, a login round's) may be pending before the token fetch's
	// deadline is armed (the -race copy of CI run 41 ran out its 30 s).
	var err error
	clk.fireUntil(t, session.DefaultRESTTimeout, func() bool {
		select {
		case err = <-errc:
			return true
		default:
			return false
		}
	}, "the token fetch's deadline fired")
	var le *session.LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "token", le.Step)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NoError(t, ctx.Err())
}
