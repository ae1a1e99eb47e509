package session_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/wsclient"
)

// aheadClock is the wall clock moved on by ahead: the session's Now as a
// test steps it.
type aheadClock struct {
	wsclient.Clock
	ahead atomic.Int64
}

func (c *aheadClock) Now() time.Time { return c.Clock.Now().Add(time.Duration(c.ahead.Load())) }

// TestS35rvKrakenTokenAge: Kraken "Get Websockets Token": a token "should
// be used within 15 minutes of creation". A subscription refused for the
// channel (EGeneral:Internal error) and tried again on the same connection
// reuses the connection's token while it is younger than 14 minutes on the
// session's clock (Client.Clock), and fetches a new one once it is not.
// Each refusal here moves the session's clock on by step: at 4 minutes
// one token serves the four tries (0 to 12 minutes old); at 13 the third
// try's token is 26 minutes old and fetched anew (two); at 14 each try
// fetches its own (four).
// (The 14-minute bound had no test: the manual clock's Now is the wall
// clock's.)
func TestS35rvKrakenTokenAge(t *testing.T) {
	for _, c := range []struct {
		step   time.Duration
		tokens int
	}{{4 * time.Minute, 1}, {13 * time.Minute, 2}, {14 * time.Minute, 4}} {
		t.Run(c.step.String(), func(t *testing.T) {
			ahead := &aheadClock{Clock: wsclient.SystemClock()}
			tokens := s35KrakenRefusedThrice(t, "", &manualClock{Clock: ahead}, func() {
				ahead.ahead.Add(int64(c.step)) // the token fetched for this try is step old at the next
			})
			assert.Equal(t, c.tokens, tokens, "tokens fetched")
		})
	}
}
