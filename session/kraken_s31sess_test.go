package session_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS31KrakenFailedRotationKeepsOldToken: Kraken's orders carry the
// WebSocket token their connection subscribed with (Kraken "Spot REST →
// GetWebSocketsToken": valid 15 minutes, and kept valid while the
// connection that used it stays subscribed). A rotation fetches a new
// token for the new connection; when the new connection's subscription
// is refused the rotation fails and the old connection stays: its orders
// must go on with the old connection's token, not the new one (used by a
// connection now gone: it expires 15 minutes after its creation, and the
// venue refuses the orders from then on — the fake, which binds a token
// to the connection that used it, refuses them at once). Before s31sess
// the new token replaced the old one as it was fetched, and stayed.
func TestS31KrakenFailedRotationKeepsOldToken(t *testing.T) {
	c := placeCases()[2]
	require.Equal(t, schema.VenueKraken, c.venue)
	f := newFakePrivate(t, c.venue, nil)
	clk := newManualClock()
	seen := &rotationSeen{}
	var oldConn atomic.Int32
	f.mu.Lock()
	f.alter = func(conn int, msg []byte, replies []string) []string {
		if o := int(oldConn.Load()); o == 0 || conn == o || !strings.Contains(string(msg), `"subscribe"`) {
			return replies
		}
		for i, r := range replies { // the new connection's subscription refused
			replies[i] = strings.Replace(r, `"success":true`, `"success":false,"error":"EGeneral:Internal error"`, 1)
		}
		return replies
	}
	f.mu.Unlock()
	s := startOrders(t, c, f, func(cfg *session.Config) {
		cfg.Client.Clock, cfg.Client.MaxAge = clk, rotateAge
		cfg.OnState = seen.onState
	})
	waitOrdersReady(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	_, err := place(t, s, ctx, "k0")
	require.NoError(t, err)
	o0 := f.ordersSeen()[0]
	oldConn.Store(int32(o0.conn))
	require.NotEmpty(t, o0.token)

	// MaxAge may be armed after WaitConnected: fired until the rotation
	// began (rotateUntil), not again after.
	rotating.Store(clk, ordersRotating(s, seen))
	t.Cleanup(func() { rotating.Delete(clk) })
	clk.rotateUntil(t, func() bool { _, n := seen.counts(); return n >= 1 }, "the rotation fails")
	var le *session.LoginError
	require.ErrorAs(t, seen.failure(), &le)
	waitOrdersReady(t, s)

	_, err = place(t, s, ctx, "k1")
	require.NoError(t, err, "the old connection's order carries its token")
	o1 := f.ordersSeen()[1]
	assert.Equal(t, o0.conn, o1.conn, "on the old connection")
	assert.Equal(t, o0.token, o1.token)
	_ = time.Second
}
