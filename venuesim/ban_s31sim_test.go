package venuesim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Binance bans for "failing to back off after receiving 429s" (spot
// "LIMITS"). An IP that did back off — its next 429 came after the retry
// time the last one gave — has shown it backs off: its earlier strikes
// no longer count towards a ban. The venue kept every strike for the
// IP's life, so with Bans.Strikes 2 a client that overran once, backed
// off for a minute and overran once more a day later was banned as if it
// had never waited. (Binance does not say how strikes decay; this is
// the reading of "failing to back off" the venue takes.)
func TestS31simBanStrikesEndWhenTheIPBacksOff(t *testing.T) {
	clock := newS29Clock(s29Epoch)
	v := s30Venue(t, clock, venuesim.Options{Bans: &venuesim.Bans{Strikes: 2}})
	url := v.RESTURL() + "/api/v3/depth?symbol=BTCUSDT&limit=5000" // weight 250: 24 fill the minute's 6000
	overrun := func() int {
		t.Helper()
		for range 30 {
			if resp, _ := s30Get(t, url); resp.StatusCode != http.StatusOK {
				return resp.StatusCode
			}
		}
		require.FailNow(t, "never refused")
		return 0
	}
	require.Equal(t, http.StatusTooManyRequests, overrun(), "the first 429")
	resp, _ := s30Get(t, url)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "again before its retry time: strike 1 of 2")

	clock.Advance(time.Minute) // it backs off past the retry time
	require.Equal(t, http.StatusTooManyRequests, overrun(), "a 429 after the retry time: it backed off")
	resp, _ = s30Get(t, url)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "strike 1 again, not 2: no ban")
	resp, _ = s30Get(t, url)
	assert.Equal(t, http.StatusTeapot, resp.StatusCode, "strike 2 without backing off: banned")
}
