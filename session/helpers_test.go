package session_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// generous is the deadline for anything on a busy machine.
const generous = 30 * time.Second

const (
	apiKey    = "test-key"
	apiSecret = "test-secret"
)

func endpoints(v *venuesim.Venue) session.Endpoints {
	return session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()}
}

func credentials() *normalize.Credentials {
	return normalize.NewCredentials(apiKey, normalize.NewHMACSigner([]byte(apiSecret)))
}

// fastRedial keeps reconnects quick in tests.
var fastRedial = wsclient.Options{BackoffBase: time.Millisecond, BackoffCap: 20 * time.Millisecond}

func startVenue(t *testing.T) *venuesim.Venue {
	t.Helper()
	v := venuesim.Start(&venuesim.Options{Rate: 400, APIKey: apiKey, APISecret: apiSecret})
	t.Cleanup(v.Close)
	return v
}

// start starts a session and closes it at the end of the test, checking
// that nothing leaked.
func start(t *testing.T, cfg session.Config) *session.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	s, err := session.Start(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), generous)
		defer cancel()
		require.NoError(t, s.Close(ctx))
		require.Zero(t, s.Outstanding())
	})
	return s
}

func waitConnected(t *testing.T, s *session.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, s.WaitConnected(ctx))
}

// atomicTime is a settable clock for Config.Now.
type atomicTime struct{ ns atomic.Int64 }

func (a *atomicTime) set(t time.Time) { a.ns.Store(t.UnixNano()) }
func (a *atomicTime) get() time.Time  { return time.Unix(0, a.ns.Load()) }
