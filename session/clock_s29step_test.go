package session_test

import (
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

// TestS29ClockStepDuringMeasure: the local clock steps 3 s ahead while
// the offset is being measured (between the request for the venue's time
// and its answer). The measured interval then spans the step, the offset
// measured before it (0) lies in it and was kept: every request signed
// after it was stamped 3 s ahead, and Binance refused the user-data
// subscription on the new connection (-1021, "1000ms ahead of the
// server's time", WS-API "Timing security") until the next measurement.
// A step larger than the round trip (wall vs monotonic) is measured
// again now: the offset is -3 s, and the subscription signed with it is
// taken at once.
func TestS29ClockStepDuringMeasure(t *testing.T) {
	v := startVenue(t)
	var skew atomic.Int64
	var armed atomic.Bool
	ep := endpoints(v)
	ep.REST = restProxy(t, v, func(_ http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v3/time" && armed.CompareAndSwap(true, false) {
			skew.Store(int64(3 * time.Second)) // the step, during the round trip
		}
		return false // on to the venue
	})
	local := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Now: local, Pools: strictPools()})
	waitConnected(t, s)
	require.Less(t, s.ClockOffset().Abs(), time.Second)
	before := len(v.UserDataSubscriptions())

	armed.Store(true)
	dropAPI(t, v) // the new connection measures the offset, then subscribes
	waitConnected(t, s)
	assert.Less(t, s.ClockOffset(), -2*time.Second, "the offset measured after the step")
	subs := v.UserDataSubscriptions()[before:]
	require.NotEmpty(t, subs)
	for _, sub := range subs {
		assert.Zero(t, sub.Code, "a subscription refused: signed with the offset of before the step")
	}
	mustPlace(t, s, "after-step")
}

// restProxy serves the venue's REST endpoints through a loopback proxy
// and returns its URL: intercept sees every request first, and answers it
// itself when it returns true.
func restProxy(t *testing.T, v *venuesim.Venue, intercept func(w http.ResponseWriter, r *http.Request) bool) string {
	t.Helper()
	target, err := url.Parse(v.RESTURL())
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !intercept(w, r) {
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
