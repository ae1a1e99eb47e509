package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/examples/internal/cli"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// holdMarket pauses the venue and waits until the bot's book shows the
// held market. The bot prices its order at its book's best bid: a book
// still behind (a loaded machine, GOMAXPROCS=1) can show a bid the
// venue's ask has since moved below, and the order then fills at once
// instead of resting.
func holdMarket(t *testing.T, venue *venuesim.Venue, s *session.Session) {
	t.Helper()
	venue.Pause(true)
	require.Eventually(t, func() bool {
		bid, ask := venueTop(t, venue, "BTCUSDT")
		top, live := s.Book("BTC-USDT").BBO()
		return live && top.BidPrice.Cmp(bid) == 0 && top.AskPrice.Cmp(ask) == 0
	}, 30*time.Second, 5*time.Millisecond, "the bot's book shows the held market")
}

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
	step := func(stage string, s *session.Session) {
		switch stage {
		case "ready":
			holdMarket(t, venue, s) // the order rests until the market moves again
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

// venueTop is the best bid and ask of the venue's book for sym, from its
// REST depth snapshot.
func venueTop(t *testing.T, venue *venuesim.Venue, sym string) (bid, ask schema.Decimal) {
	t.Helper()
	resp, err := http.Get(venue.RESTURL() + "/api/v3/depth?limit=1&symbol=" + sym)
	require.NoError(t, err)
	defer resp.Body.Close()
	var depth struct {
		Bids [][2]string `json:"bids"`
		Asks [][2]string `json:"asks"`
	}
	require.NoError(t, json.UnmarshalRead(resp.Body, &depth))
	require.NotEmpty(t, depth.Bids)
	require.NotEmpty(t, depth.Asks)
	return schema.MustParseDecimal(depth.Bids[0][0]), schema.MustParseDecimal(depth.Asks[0][0])
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
