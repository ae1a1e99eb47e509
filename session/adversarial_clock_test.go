package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// TestAdvResignEveryReconnect: four reconnects in a row; each new
// connection's user-data subscription is signed anew, with the clock's
// time at that moment (strictly newer every time), on that connection,
// and accepted by the venue's recvWindow check.
func TestAdvResignEveryReconnect(t *testing.T) {
	v := startVenue(t)
	var now atomicTime
	last := time.Now()
	now.set(last)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Now: now.get, NoClockSync: true, Pools: strictPools()})
	waitConnected(t, s)
	subs := v.UserDataSubscriptions()
	require.Len(t, subs, 1)
	conns := map[uint64]bool{subs[0].Conn: true}
	prevTS := subs[0].Timestamp
	for round := range 4 {
		// The clock moves on (at least a millisecond, so that the new
		// timestamp must differ from the old).
		next := time.Now()
		if next.Sub(last) < time.Millisecond {
			next = last.Add(time.Millisecond)
		}
		last = next
		now.set(next)
		before := dropAPI(t, v)
		waitConnected(t, s)
		subs = v.UserDataSubscriptions()
		require.Len(t, subs, before+1, "one subscription per connection, round %d", round)
		sub := subs[len(subs)-1]
		assert.True(t, sub.Accepted, "round %d: code %d", round, sub.Code)
		assert.False(t, conns[sub.Conn], "round %d: on a new connection", round)
		conns[sub.Conn] = true
		assert.Equal(t, next.UnixMilli(), sub.Timestamp, "round %d: signed with the clock's time now", round)
		assert.Greater(t, sub.Timestamp, prevTS, "round %d", round)
		prevTS = sub.Timestamp
		assert.Equal(t, sub.Timestamp, s.Stats().Order.UserDataTS.UnixMilli())
	}
	assert.Equal(t, uint64(5), s.Stats().Order.UserDataSubs)
}

// TestAdvClockFarOff: a local clock hours ahead or days behind the
// venue's. The offset measured against the venue's server time makes the
// signed subscription and orders land inside recvWindow; after the local
// clock is stepped (an NTP correction) the offset is measured again on the
// next connection, which is accepted too.
func TestAdvClockFarOff(t *testing.T) {
	for _, tc := range []struct {
		name        string
		skew, step  time.Duration
		wantOffsetS float64
	}{
		{"three hours ahead", 3 * time.Hour, -3 * time.Hour, -3 * 3600},
		{"thirty days behind", -30 * 24 * time.Hour, 2 * time.Hour, 30 * 24 * 3600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := startVenue(t)
			var skew atomicTime // holds the skew as a time since the epoch
			skew.set(time.Unix(0, int64(tc.skew)))
			local := func() time.Time { return time.Now().Add(time.Duration(skew.get().UnixNano())) }
			s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
				Credentials: credentials(), Client: fastRedial, Now: local, Pools: strictPools()})
			waitConnected(t, s)
			assert.InDelta(t, tc.wantOffsetS, s.ClockOffset().Seconds(), 5)
			mustPlace(t, s, "skew-1")

			skew.set(time.Unix(0, int64(tc.skew+tc.step)))
			dropAPI(t, v)
			waitConnected(t, s)
			subs := v.UserDataSubscriptions()
			assert.True(t, subs[len(subs)-1].Accepted, "code %d", subs[len(subs)-1].Code)
			assert.InDelta(t, tc.wantOffsetS-tc.step.Seconds(), s.ClockOffset().Seconds(), 5, "measured again")
			mustPlace(t, s, "skew-2")
		})
	}
}

// TestAdvRecvWindow: Binance's timing rule — a request is served when
// timestamp < serverTime + 1000 and serverTime − timestamp ≤ recvWindow,
// recvWindow at most 60000 ms (WS-API "Timing security") — seen from the
// session with the clock offset off. Margins are wide so that the
// machine's load cannot move a case across an edge: latency only makes a
// request older, so "ahead" cases err towards acceptance and "behind"
// cases are kept seconds from the window's end.
func TestAdvRecvWindow(t *testing.T) {
	v := startVenue(t)
	for _, tc := range []struct {
		name   string
		skew   time.Duration // local clock minus the venue's
		window time.Duration
		code   int64 // 0: accepted
	}{
		{"300ms ahead", 300 * time.Millisecond, 0, 0},
		{"3s ahead", 3 * time.Second, 0, -1021},
		{"2s behind, default window", -2 * time.Second, 0, 0},
		{"15s behind, default window", -15 * time.Second, 0, -1021},
		{"50s behind, 60s window", -50 * time.Second, time.Minute, 0},
		{"70s behind, 60s window", -70 * time.Second, time.Minute, -1021},
	} {
		t.Run(tc.name, func(t *testing.T) {
			local := func() time.Time { return time.Now().Add(tc.skew) }
			s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
				Credentials: credentials(), Now: local, NoClockSync: true, RecvWindow: tc.window})
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			err := s.WaitConnected(ctx)
			if tc.code == 0 {
				require.NoError(t, err)
				return
			}
			var verr *session.VenueError
			require.ErrorAs(t, err, &verr)
			assert.Equal(t, tc.code, verr.Code)
		})
	}
	// A window Binance does not take is refused at Start, not by the
	// venue on every request: over 60 s, or under the millisecond it is
	// sent in (it would go out as 0 and the venue's 5 s would apply).
	// A negative one is not "unset" (0 is): the doc's "Start refuses others".
	for _, w := range []time.Duration{61 * time.Second, time.Hour, 500 * time.Microsecond, -time.Second, -time.Nanosecond} {
		ctx, cancel := context.WithTimeout(context.Background(), generous)
		s, err := session.Start(ctx, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
			Credentials: credentials(), RecvWindow: w})
		cancel()
		if s != nil {
			require.NoError(t, s.Close(context.Background()))
		}
		require.ErrorIs(t, err, session.ErrConfig, "RecvWindow %v", w)
	}
}

// timeProxy stands in front of the venue's REST API and does what mode
// says with GET /api/v3/time: "" passes it on, "500" and "garbage" answer
// badly, "hang" answers only when the request is given up.
type timeProxy struct {
	url     string
	mode    atomic.Value // string
	hanging atomic.Int64 // server-time requests held in mode "hang"
}

func newTimeProxy(t *testing.T, v *venuesim.Venue) *timeProxy {
	t.Helper()
	target, err := url.Parse(v.RESTURL())
	require.NoError(t, err)
	p := &timeProxy{}
	p.mode.Store("")
	pass := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v3/time" {
			pass.ServeHTTP(w, r)
			return
		}
		switch p.mode.Load().(string) {
		case "500":
			http.Error(w, `{"code":-1000,"msg":"An unknown error occurred"}`, http.StatusInternalServerError)
		case "garbage":
			_, _ = w.Write([]byte(`{"serverTime":"soon"}`))
		case "hang":
			p.hanging.Add(1)
			<-r.Context().Done()
		default:
			pass.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

// TestAdvClockSyncFailsOnReconnect: the server-time request fails (an
// error status, an unreadable answer) when the session reconnects; it
// keeps the offset it measured last, so the new subscription — signed with
// the far-off local clock plus that offset — is still accepted.
func TestAdvClockSyncFailsOnReconnect(t *testing.T) {
	v := startVenue(t)
	p := newTimeProxy(t, v)
	ep := endpoints(v)
	ep.REST = p.url
	ahead := func() time.Time { return time.Now().Add(2 * time.Hour) }
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Now: ahead, Pools: strictPools()})
	waitConnected(t, s)
	offset := s.ClockOffset()
	for _, mode := range []string{"500", "garbage"} {
		p.mode.Store(mode)
		dropAPI(t, v)
		waitConnected(t, s)
		subs := v.UserDataSubscriptions()
		assert.True(t, subs[len(subs)-1].Accepted, "%s: code %d", mode, subs[len(subs)-1].Code)
		assert.Equal(t, offset, s.ClockOffset(), "%s: the last offset kept", mode)
	}
}

// givenUp records why the server-time requests that failed were given
// up: their context's error, as the session's HTTP client saw it.
type givenUp struct {
	base http.RoundTripper
	errs chan error
}

func (g *givenUp) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := g.base.RoundTrip(r)
	if err != nil && r.URL.Path == "/api/v3/time" {
		g.errs <- r.Context().Err()
	}
	return resp, err
}

// TestAdvCloseDuringClockSync: Close while the session waits for the
// venue's server time on a reconnect: the request is given up because the
// session closes (context.Canceled), not left to run out its timeout
// (DefaultRESTTimeout, which Close would wait for), and nothing leaks.
func TestAdvCloseDuringClockSync(t *testing.T) {
	v := startVenue(t)
	p := newTimeProxy(t, v)
	ep := endpoints(v)
	ep.REST = p.url
	g := &givenUp{base: http.DefaultTransport, errs: make(chan error, 16)}
	s, err := session.Start(context.Background(), session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Pools: strictPools(), HTTPClient: &http.Client{Transport: g}})
	require.NoError(t, err)
	waitConnected(t, s)
	p.mode.Store("hang")
	before := len(v.UserDataSubscriptions())
	require.Equal(t, 1, v.CloseAPI())
	// The session is now waiting for the server time: it has not
	// subscribed again. (The new connection alone is not enough: Close
	// could come before the request, and then none is made to give up.)
	require.Eventually(t, func() bool { return p.hanging.Load() > 0 }, generous, pollEvery)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, s.Close(ctx))
	select {
	case err := <-g.errs:
		require.ErrorIs(t, err, context.Canceled, "given up by Close, not by its timeout")
	case <-ctx.Done():
		require.FailNow(t, "the server-time request was never given up")
	}
	assert.Len(t, v.UserDataSubscriptions(), before)
	assert.Zero(t, s.Outstanding())
}

// TestAdvUserDataRefusedThenRetried: on a reconnect the server time cannot
// be read and the local clock has meanwhile been stepped an hour ahead,
// so the venue refuses the new user-data subscription (-1021). That is
// passing: the session measures the offset again and re-signs on the same
// connection, with backoff, until the venue accepts — it does not stay
// unable to trade (and deaf to execution reports) until the connection
// happens to drop.
func TestAdvUserDataRefusedThenRetried(t *testing.T) {
	v := startVenue(t)
	p := newTimeProxy(t, v)
	ep := endpoints(v)
	ep.REST = p.url
	var skew atomic.Int64
	local := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Now: local, Pools: strictPools()})
	waitConnected(t, s)

	p.mode.Store("garbage")
	skew.Store(int64(time.Hour))
	before := dropAPI(t, v)
	refused := v.UserDataSubscriptions()[before]
	require.False(t, refused.Accepted)
	require.Equal(t, -1021, refused.Code)

	p.mode.Store("") // the server time can be read again
	require.Eventually(t, func() bool {
		subs := v.UserDataSubscriptions()
		return subs[len(subs)-1].Accepted
	}, generous, pollEvery, "re-signed and accepted")
	subs := v.UserDataSubscriptions()
	assert.Equal(t, refused.Conn, subs[len(subs)-1].Conn, "on the same connection")
	// The venue records the acceptance before the session reads it.
	require.Eventually(t, func() bool { return readyNow(s) }, generous, pollEvery)
	mustPlace(t, s, "retried-1")
}
