package session_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS28rvBybitTradeLoginUnanswered: Bybit's trade connection (its own
// auth, Step "trade login") whose auth answer is lost ends like the
// private connection's login: a LoginError wrapping ErrNoAnswer after
// 10 s on Client.Clock, then the auth sent again after the backoff, and
// orders go. (The deadline, private.go expectAnswer, had no test on the
// trade connection.)
func TestS28rvBybitTradeLoginUnanswered(t *testing.T) {
	c := orderCases()[1]
	require.Equal(t, schema.VenueBybit, c.venue)
	f := newFakePrivate(t, c.venue, nil)
	var mu sync.Mutex
	auths := 0
	f.alterTrade = func(_ int, msg []byte, replies []string) []string {
		if !bytes.Contains(msg, []byte(`"op":"auth"`)) {
			return replies
		}
		mu.Lock()
		defer mu.Unlock()
		auths++
		if auths == 1 {
			return nil // the first auth's answer lost
		}
		return replies
	}
	authsN := func() int {
		mu.Lock()
		defer mu.Unlock()
		return auths
	}
	clk := newManualClock()
	s := startOrders(t, c, f, func(cfg *session.Config) { cfg.Client.Clock = clk })

	// Fired once the trade auth is out (its deadline armed before its
	// write) and the private channels' connection is in (its own deadline
	// stopped: only the trade connection's is fired).
	require.Eventually(t, func() bool { return authsN() >= 1 && s.PrivateChannelsReady() }, generous, pollEvery,
		"the trade auth sent, the private channels in")
	var lerr *session.LoginError
	clk.fireUntil(t, 10*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err := s.WaitConnected(ctx)
		return errors.Is(err, session.ErrNoAnswer) && errors.As(err, &lerr) && lerr.Step == "trade login"
	}, "the unanswered trade auth is reported after 10 s on the clock")
	assert.Equal(t, schema.VenueBybit, lerr.Venue)

	clk.fireUntil(t, 0, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		return s.WaitConnected(ctx) == nil
	}, "the auth sent again after the backoff, and in")
	assert.GreaterOrEqual(t, authsN(), 2, "the auth sent again")
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	_, err := place(t, s, ctx, "after1")
	require.NoError(t, err)
}
