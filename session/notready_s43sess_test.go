package session_test

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS43sessOrderDuringNoAnswerBackoffIsNotSent: while the private
// handshake waits out its retry's backoff after a subscription went
// unanswered (WaitConnected: a LoginError wrapping ErrNoAnswer), an order
// call returns ErrNotSent and says so — not ErrNoAnswer, which on an order
// call means an order written and unanswered, its outcome unknown (the
// host looks it up). Before s43sess the call wrapped the handshake's
// LoginError whole, so errors.Is(err, ErrNoAnswer) held for an order never
// sent.
func TestS43sessOrderDuringNoAnswerBackoffIsNotSent(t *testing.T) {
	c := orderCases()[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, nil)
	var lost atomic.Bool
	f.alter = func(_ int, msg []byte, replies []string) []string {
		if bytes.Contains(msg, []byte(`"subscribe"`)) && lost.CompareAndSwap(false, true) {
			return nil // the first subscription's answer is lost
		}
		return replies
	}
	clk := newManualClock()
	s := startOrders(t, c, f, func(cfg *session.Config) { cfg.Client.Clock = clk })
	require.Eventually(t, lost.Load, generous, pollEvery, "the subscription sent")
	clk.fireUntil(t, 10*time.Second, func() bool { return s.Stats().Order.Refused > 0 }, "unanswered after 10 s on the clock")
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.ErrorIs(t, s.WaitConnected(ctx), session.ErrNoAnswer)

	_, err := place(t, s, ctx, "backoff1") // the retry's timer not fired: in its backoff
	require.ErrorIs(t, err, session.ErrNotSent)
	require.NotErrorIs(t, err, session.ErrNoAnswer, "never written: no unknown outcome")
	require.ErrorContains(t, err, "unanswered")
	require.Empty(t, f.ordersSeen())
}
