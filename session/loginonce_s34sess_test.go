package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// The private side's refusal (a *LoginError, tried again after a backoff)
// is returned by WaitConnected once per refusal too, as a market refusal
// is: a host's retry loop of a thousand calls with an ended ctx during
// the backoff gets ctx's error, not the same refusal a thousand times at
// once (a refusal that comes meanwhile is returned once). Before: every
// call returned the refusal at once until the retry.
func TestS34sessLoginRefusalReturnedOncePerRefusal(t *testing.T) {
	var c privateCase
	for _, pc := range privateCases(t) {
		if pc.venue == schema.VenueOKX {
			c = pc
		}
	}
	f := newFakePrivate(t, c.venue, c.pushes)
	f.setReject(true)
	clk := newManualClock()
	cfg := c.config(f, time.Now)
	cfg.Client.Clock = clk
	s := start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	ended, end := context.WithCancel(ctx)
	end()
	refusals := func() (n int) {
		for range 1000 {
			err := s.WaitConnected(ended)
			var le *session.LoginError
			if errors.As(err, &le) {
				n++
				continue
			}
			require.ErrorIs(t, err, context.Canceled)
		}
		return n
	}
	var le *session.LoginError
	require.ErrorAs(t, s.WaitConnected(ctx), &le, "the first refusal")
	// The venue may refuse again meanwhile (the fake hangs up, and the
	// client logs in anew): each of those may be returned once, and one
	// counted before the first returned may not have been set yet.
	before := s.Stats().Order.Refused
	n := refusals()
	after := s.Stats().Order.Refused
	require.LessOrEqual(t, uint64(n), after-before+1, "a thousand calls: each refusal returned once (%d refusals meanwhile)", after-before)
}
