package session_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// TestUserDataResignedOnReconnect: the venue drops the order connection;
// the session signs the user-data subscription again with a newer
// timestamp, which the venue (checking recvWindow) accepts, and orders
// work again.
func TestUserDataResignedOnReconnect(t *testing.T) {
	v := startVenue(t)
	// The local clock, used as it is (no offset), so that the test sets the
	// timestamps: the real clock, moved 1 ms ahead before the drop so that
	// the new subscription's timestamp is strictly newer. (A clock stopped
	// 2 s back left 3 s of recvWindow, which a loaded machine used up
	// before the venue checked the first subscription.)
	var ahead atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Now: now, NoClockSync: true})
	waitConnected(t, s)
	first := v.UserDataSubscriptions()
	require.Len(t, first, 1)
	require.True(t, first[0].Accepted)

	ahead.Store(int64(time.Millisecond)) // the clock moved on
	require.Equal(t, 1, v.CloseAPI())
	require.Eventually(t, func() bool {
		subs := v.UserDataSubscriptions()
		return len(subs) >= 2 && subs[len(subs)-1].Accepted
	}, generous, pollEvery)
	waitConnected(t, s)
	subs := v.UserDataSubscriptions()
	last := subs[len(subs)-1]
	assert.NotEqual(t, first[0].Conn, last.Conn, "on the new connection")
	assert.Greater(t, last.Timestamp, first[0].Timestamp, "signed anew, with a newer timestamp")
	assert.Equal(t, last.Timestamp, s.Stats().Order.UserDataTS.UnixMilli())

	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(s, t, "after-1", "buy", "1000.00", "0.01")
	defer s.Pools().Orders.Put(req)
	ack, err := s.Place(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, schema.StatusNew, ack.Status)
}

// TestClockOffset: a local clock a minute behind the venue's. Measured
// against the venue's server time, the offset makes the signed
// subscription and orders land inside recvWindow; without it the venue
// refuses the subscription with -1021 and WaitConnected says so.
func TestClockOffset(t *testing.T) {
	v := startVenue(t)
	behind := func() time.Time { return time.Now().Add(-time.Minute) }
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Now: behind})
	waitConnected(t, s)
	assert.InDelta(t, time.Minute.Seconds(), s.ClockOffset().Seconds(), 5, "about a minute ahead")
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(s, t, "synced-1", "buy", "1000.00", "0.01")
	defer s.Pools().Orders.Put(req)
	_, err := s.Place(ctx, req)
	require.NoError(t, err)

	stale := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Now: behind, NoClockSync: true})
	var verr *session.VenueError
	require.ErrorAs(t, stale.WaitConnected(ctx), &verr)
	assert.Equal(t, int64(-1021), verr.Code)
	_, err = stale.Place(ctx, req)
	require.ErrorAs(t, err, &verr, "no order goes out without the user-data stream")
	subs := v.UserDataSubscriptions()
	assert.False(t, subs[len(subs)-1].Accepted)
	assert.Equal(t, -1021, subs[len(subs)-1].Code)
}

// leapingClock is the system clock whose Now leaps a minute at every
// reading: each watchdog tick sees a minute pass. It counts the readings.
type leapingClock struct {
	wsclient.Clock
	reads atomic.Int64
}

func (c *leapingClock) Now() time.Time {
	n := c.reads.Add(1)
	return time.Now().Add(time.Duration(n) * time.Minute)
}

// TestQuietOrderConnectionKept: an account with nothing to report sends no
// message for hours, and Binance keeps its WS-API connection alive with
// WebSocket pings, which are no messages. With pings on, the order
// connection is judged by its pongs alone, never taken for idle: each
// watchdog tick here sees a minute pass in silence, past any idle timeout.
func TestQuietOrderConnectionKept(t *testing.T) {
	v := startVenue(t)
	clk := &leapingClock{Clock: wsclient.SystemClock()}
	client := fastRedial
	client.Clock = clk
	client.PingInterval = time.Hour           // no ping out: the pong timeout never runs
	client.PongTimeout = 8 * time.Millisecond // a watchdog tick every millisecond
	client.IdleTimeout = 30 * time.Second
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: client})
	waitConnected(t, s)
	start := clk.reads.Load()
	require.Eventually(t, func() bool { return clk.reads.Load() > start+500 }, generous, pollEvery, "watchdog ticks")
	st := s.Stats().Orders.Client
	assert.Zero(t, st.TotalReconnects(), "a quiet order connection is not idle")
	assert.Equal(t, schema.ConnConnected, st.State)
}

// TestUserDataStreamTerminated: Binance stops a WS-API user-data
// subscription with eventStreamTerminated ("sent when the User Data
// Stream is stopped", WebSocket API "User Data Stream requests"), the
// connection staying open (seen 20 s into a subscription:
// binance/binance-connector-js#535): no execution report comes on it
// after that.
// The session does not stay silently deaf: it signs the subscription
// again on the same connection, orders wait for it, and what filled in
// between is reconciled.
func TestUserDataStreamTerminated(t *testing.T) {
	v := startVenue(t)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial})
	waitConnected(t, s)
	first := v.UserDataSubscriptions()
	require.Len(t, first, 1)

	require.Equal(t, 1, v.TerminateUserData())
	require.Eventually(t, func() bool {
		subs := v.UserDataSubscriptions()
		return len(subs) >= 2 && subs[len(subs)-1].Accepted
	}, generous, pollEvery, "subscribed again")
	subs := v.UserDataSubscriptions()
	assert.Equal(t, first[0].Conn, subs[len(subs)-1].Conn, "on the same connection: it was not lost")
	assert.Zero(t, s.Stats().Orders.Client.TotalReconnects())
	waitConnected(t, s)
}
