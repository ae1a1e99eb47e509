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
)

// TestAdv5ServerTimeMalformed: Binance "Check server time" answers
// {"serverTime":ms}. An answer that is no time — 1 ms after 1970, 0,
// negative, beyond any calendar, a string, a float, not JSON — measured on
// a reconnect was taken for the venue's clock ({"serverTime":1} moved the
// offset back 56 years): every request signed after it carried a 1970
// timestamp, the venue refused the user-data subscription (-1021), and no
// order could go until the next good measurement. Such an answer is
// malformed input now: the offset measured before is kept, the session
// subscribes and trades. At Start, with no offset measured yet, it is an
// error of Start.
func TestAdv5ServerTimeMalformed(t *testing.T) {
	v := startVenue(t)
	target, err := url.Parse(v.RESTURL())
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var body atomic.Pointer[string]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b := body.Load(); b != nil && r.URL.Path == "/api/v3/time" {
			_, _ = w.Write([]byte(*b))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ep := endpoints(v)
	ep.REST = srv.URL
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Pools: strictPools()})
	waitConnected(t, s)
	mustPlace(t, s, "time-0")
	for i, bad := range []string{
		`{"serverTime":1}`, `{"serverTime":0}`, `{"serverTime":-1700000000000}`,
		`{"serverTime":92233720368547758}`, `{"serverTime":"1700000000000"}`, `{"serverTime":1.7e12}`,
		`{}`, `null`, `[`, ``, `{"serverTime":[1,2,3]}`,
	} {
		body.Store(&bad)
		dropAPI(t, v)
		waitConnected(t, s)
		subs := v.UserDataSubscriptions()
		require.True(t, subs[len(subs)-1].Accepted, "%s: code %d", bad, subs[len(subs)-1].Code)
		assert.Less(t, s.ClockOffset().Abs(), time.Minute, bad)
		mustPlace(t, s, "time-"+string(rune('a'+i)))
	}

	// At Start the answer is Start's error.
	bad := `{"serverTime":1}`
	body.Store(&bad)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	s2, err := session.Start(ctx, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials()})
	if s2 != nil {
		require.NoError(t, s2.Close(context.Background()))
	}
	require.Error(t, err)
}
