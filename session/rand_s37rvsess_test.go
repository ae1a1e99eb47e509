package session_test

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// Config.Client.Rand is the template's: wsclient calls it "from one
// goroutine at a time" — per client. The session gives it to every market
// connection (and the private side's backoff, and the market refusals'
// jitter), each calling it from a goroutine of its own, so a host's
// source that is not safe for concurrent use (a seeded *rand.Rand's
// Int64N, for a reproducible run) was raced by the shards' redials. The
// session serialises the host's Rand. This Rand keeps unguarded state:
// under -race, the two shards' dials reported a data race before (it
// cannot fail without -race).
func TestS37rvsessHostRandCalledOneAtATime(t *testing.T) {
	v := startVenue(t)
	var state int64 // a source's state, unguarded, as rand.Rand's is
	var calls atomic.Int64
	redial := fastRedial
	redial.Rand = func(n int64) int64 {
		state = state*6364136223846793005 + 1442695040888963407
		calls.Add(1)
		if n <= 0 {
			return 0
		}
		return int64(uint64(state)>>1) % n
	}
	s := start(t, session.Config{
		Endpoints: endpoints(v), Symbols: []string{"BTC-USDT", "ETH-USDT"}, Channels: []string{"trade"},
		MaxTopicsPerConn: 1, Client: redial,
	})
	waitConnected(t, s)
	require.Len(t, s.Stats().Market, 2)
	for range 3 {
		before := s.Stats().Market[0].Client.TotalReconnects() + s.Stats().Market[1].Client.TotalReconnects()
		require.Positive(t, v.Inject(venuesim.FaultClose))
		require.Eventually(t, func() bool {
			st := s.Stats()
			return st.Market[0].Client.TotalReconnects()+st.Market[1].Client.TotalReconnects() > before
		}, generous, pollEvery, "redialled")
		waitConnected(t, s)
	}
	require.Positive(t, calls.Load())
}
