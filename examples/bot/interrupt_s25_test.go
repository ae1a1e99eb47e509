package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/examples/internal/cli"
	"github.com/meltica/meltica/internal/exit"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// Ctrl-C while the bot waits for its fill: the session closes, the leak
// check runs, and the run's only error is the interrupt, which the
// process reports with status 0 (a clean shutdown the user asked for).
// It exited 1 with "bot: context canceled".
func TestS25InterruptIsCleanExit(t *testing.T) {
	for _, at := range []string{"ready", "resting"} {
		t.Run(at, func(t *testing.T) {
			venue := venuesim.Start(&venuesim.Options{Rate: 400, APIKey: "key", APISecret: "secret"})
			defer venue.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := &printed{}
			keys := normalize.NewCredentials("key", normalize.NewHMACSigner([]byte("secret")))
			err := run(ctx, cli.SyncWriter(out), cli.Endpoints(venue, session.Endpoints{}), keys, func(stage string, s *session.Session) {
				if stage == "ready" {
					// The market holds still from before the order, and the
					// book shows it: the order is placed at the best bid, which
					// a market moving meanwhile could cross (filled at once,
					// the run ended without the interrupt).
					holdMarket(t, venue, s)
				}
				if stage == at {
					cancel()
				}
			})
			t.Log(out.String())
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, 0, exit.Status(ctx, err), "%v", err)
			assert.Contains(t, out.String(), "leak check: 0 outstanding")
		})
	}
}
