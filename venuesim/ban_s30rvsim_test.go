package venuesim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// The venue's clock stepped back an hour (Options.Clock has no monotonic
// reading) after a client backed off as told: its next 429 is a 429, not
// a strike that bans it (the earlier 429's retry time, an hour ahead of
// the stepped clock, is no proof it failed to back off).
func TestS30rvsimStepBackIsNoStrike(t *testing.T) {
	clock := newS29Clock(s29Epoch)
	v := s30Venue(t, clock, venuesim.Options{Bans: &venuesim.Bans{}})
	a := s30DialAPI(t, v)
	r := a.fill()
	require.Equal(t, 429, r.Status)
	clock.Advance(time.UnixMilli(r.Error.Data.RetryAfter).Sub(clock.Now()))
	require.Equal(t, 200, a.heavy().Status, "backed off")
	clock.Advance(-time.Hour)
	r = a.fill()
	assert.Equal(t, 429, r.Status, "%+v", r)
	assert.Zero(t, v.Stats().Banned)
}

// A ban never outlasts its duration on the venue's clock: a clock stepped
// back an hour during a 2-minute ban does not make it 62 minutes (the
// Retry-After stays within the ban's seconds, and 2 minutes later the
// IP is served again).
func TestS30rvsimStepBackKeepsBanLength(t *testing.T) {
	clock := newS29Clock(s29Epoch)
	v := s30Venue(t, clock, venuesim.Options{Bans: &venuesim.Bans{}})
	a := s30DialAPI(t, v)
	require.Equal(t, 429, a.fill().Status)
	require.Equal(t, 418, a.heavy().Status)
	clock.Advance(-time.Hour)
	status, retry := s30Dial(t, v.APIURL())
	assert.Equal(t, http.StatusTeapot, status)
	assert.Equal(t, "120", retry, "at most the ban's 2 minutes")
	clock.Advance(2 * time.Minute)
	status, _ = s30Dial(t, v.APIURL())
	assert.Equal(t, http.StatusSwitchingProtocols, status, "the ban is over 2 minutes after the step")
}
