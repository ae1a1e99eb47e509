package session_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// s35KrakenRefusedThrice starts a Kraken session whose balances
// subscription the fake refuses three times (with reason, or the fake's
// own "EGeneral:Internal error" when reason is ""), then takes, and
// returns how many WebSocket tokens the session fetched meanwhile. clk
// (nil: a manual clock on the wall clock) is the session's; each refusal
// calls refused (when not nil) before the fake answers.
func s35KrakenRefusedThrice(t *testing.T, reason string, clk *manualClock, refused func()) int {
	t.Helper()
	c := privateCases(t)[2]
	require.Equal(t, schema.VenueKraken, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	var mu sync.Mutex
	refusals := 0
	refuse := func() bool {
		mu.Lock()
		defer mu.Unlock()
		refusals++
		if refusals > 3 {
			return false
		}
		if refused != nil {
			refused()
		}
		return true
	}
	if reason == "" {
		f.refuseSub = func(_ int, ch string) bool { return ch == "balances" && refuse() }
	} else {
		f.alter = func(_ int, msg []byte, replies []string) []string {
			if !strings.Contains(string(msg), `"balances"`) || !strings.Contains(string(msg), `"subscribe"`) || !refuse() {
				return replies
			}
			for i, r := range replies { // (the fake took the first: "Already subscribed" after)
				r = strings.Replace(r, `"success":true`, `"success":false,"error":"`+reason+`"`, 1)
				replies[i] = strings.Replace(r, `"error":"Already subscribed"`, `"error":"`+reason+`"`, 1)
			}
			return replies
		}
	}
	if clk == nil {
		clk = newManualClock()
	}
	cfg := c.config(f, time.Now)
	cfg.Client.Clock = clk
	s := start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	// Every retry's backoff fired until the subscription is taken.
	clk.fireUntil(t, 0, func() bool {
		wctx, wcancel := context.WithTimeout(ctx, pollEvery)
		defer wcancel()
		return s.WaitConnected(wctx) == nil
	}, "subscribed after three refusals")
	mu.Lock()
	assert.Equal(t, 4, refusals, "refused three times, then taken")
	mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokens)
}

// TestS35KrakenRefusedSubscriptionKeepsItsToken: Kraken "Get Websockets
// Token": a token "should be used within 15 minutes of creation" and
// stays valid while a connection uses it. A subscription the venue
// refuses for the channel (EGeneral:Internal error), tried again on the
// same connection after the backoff, goes with the connection's token:
// one token for the connection, not one per try. Before s35sess every try
// fetched one (238 in 20 minutes against Kraken's REST counter, s34ct).
func TestS35KrakenRefusedSubscriptionKeepsItsToken(t *testing.T) {
	assert.Equal(t, 1, s35KrakenRefusedThrice(t, "", nil, nil), "one token fetched")
}

// TestS35KrakenTokenRefusalFetchesANewOne: a refusal that may be of the
// token itself (an EAPI: credentials error; Kraken's "ESession:Invalid
// session" for a token that expired) has the next try fetch a new one: a
// token the venue refused is not sent again.
func TestS35KrakenTokenRefusalFetchesANewOne(t *testing.T) {
	for _, reason := range []string{"EAPI:Invalid key", "ESession:Invalid session"} {
		t.Run(reason, func(t *testing.T) {
			assert.Equal(t, 4, s35KrakenRefusedThrice(t, reason, nil, nil), "a token per try")
		})
	}
}

var _ = session.DefaultRESTTimeout
