package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/examples/internal/cli"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestBot runs the bot offline. Once its order rests, the venue drops
// every connection, the market held still so that the order cannot fill
// meanwhile; the bot reconnects, signs its user-data subscription anew
// (the venue, which checks the timestamp against recvWindow, records a
// newer one), and follows the same order to its fill on the new
// connection.
func TestBot(t *testing.T) {
	venue := venuesim.Start(&venuesim.Options{Rate: 400, APIKey: "key", APISecret: "secret"})
	defer venue.Close()
	out := &printed{}
	var first venuesim.UserDataSubscription
	step := func(stage string) {
		switch stage {
		case "ready":
			venue.Pause(true) // the order rests until the market moves again
		case "resting":
			subs := venue.UserDataSubscriptions()
			require.Len(t, subs, 1)
			first = subs[0]
			require.True(t, first.Accepted)
			require.Equal(t, 1, venue.CloseAPI())
			require.Equal(t, 1, venue.Inject(venuesim.FaultClose))
			require.Eventually(t, func() bool { // a deadline for a busy machine
				subs := venue.UserDataSubscriptions()
				return len(subs) > 1 && subs[len(subs)-1].Accepted
			}, 30*time.Second, 5*time.Millisecond)
			// The market resumes once the bot has told of both losses: the
			// fill must come after them (the market connection's close
			// handshake can outlast the orders connection's redial).
			require.Eventually(t, func() bool {
				return out.contains("market 1: disconnected") && out.contains("orders: disconnected")
			}, 30*time.Second, 5*time.Millisecond)
			venue.Pause(false)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a deadline for a busy machine
	defer cancel()
	keys := normalize.NewCredentials("key", normalize.NewHMACSigner([]byte("secret")))
	err := run(ctx, out, cli.Endpoints(venue, session.Endpoints{}), keys, step)
	text := out.String()
	t.Log(text)
	require.NoError(t, err)

	subs := venue.UserDataSubscriptions()
	last := subs[len(subs)-1]
	assert.NotEqual(t, first.Conn, last.Conn, "subscribed again on the new connection")
	assert.Greater(t, last.Timestamp, first.Timestamp, "re-signed with a newer timestamp")
	for _, want := range []string{
		"market 1: connected", "orders: connected",
		"market 1: disconnected peer_closed", "orders: disconnected peer_closed",
		"order bot-1 (venue id", "new at",
		"order bot-1 filled: filled 0.01000000 of 0.01000000",
		"leak check: 0 outstanding",
	} {
		assert.Contains(t, text, want)
	}
	assert.Regexp(t, `strategy saw \d+ trades, \d+ dropped and told in \d+ gap markers`, text)
	assert.Less(t, strings.Index(text, "orders: disconnected"), strings.Index(text, "order bot-1 filled"),
		"the fill came after the reconnect")
}

// printed is the bot's output, written from several goroutines and read by
// the test while the bot runs.
type printed struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (p *printed) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.Write(b)
}

func (p *printed) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

func (p *printed) contains(s string) bool { return strings.Contains(p.String(), s) }
