package session_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// echoedID is the request id an answer echoes: Bybit and Kraken req_id,
// OKX id.
var echoedID = regexp.MustCompile(`("(?:req_)?id":"?)[0-9]+`)

// TestS28HandshakeNeverWaitsSilently: every handshake step that waits for
// the venue ends in an answer, a typed error or a retry. A login (OKX
// login, Bybit auth) or a subscription (OKX, Bybit, Kraken) whose answer
// never comes, or comes echoing an id the session never sent (taken for
// none of its requests), is a LoginError wrapping ErrNoAnswer after 10 s
// on Client.Clock (Step "login" or "subscribe", Channel the subscription
// unanswered); after the backoff the session tries again and gets in.
// Before, the connection stayed in its handshake for good: no error, no
// retry, orders never ready.
func TestS28HandshakeNeverWaitsSilently(t *testing.T) {
	login := map[schema.Venue][]byte{schema.VenueOKX: []byte(`"op":"login"`), schema.VenueBybit: []byte(`"op":"auth"`)}
	firstSub := map[schema.Venue]string{schema.VenueOKX: "orders", schema.VenueBybit: "order", schema.VenueKraken: "executions", schema.VenueCoinbase: "user"}
	type tc struct {
		name    string
		venues  []schema.Venue
		login   bool // the login's answer is altered, else the first subscription's
		foreign bool // the answer echoes another id, else it is lost
	}
	cases := []tc{
		// (S27's TestS27UnansweredSubscriptionReconnects.) The fake venue
		// takes the subscription and loses its answer: sent again, Bybit
		// and Kraken refuse it as subscribed already, taken for its ack.
		{name: "subscription lost", venues: []schema.Venue{schema.VenueOKX, schema.VenueBybit, schema.VenueKraken, schema.VenueCoinbase}},
		{name: "login lost", venues: []schema.Venue{schema.VenueOKX, schema.VenueBybit}, login: true},
		{name: "login foreign id", venues: []schema.Venue{schema.VenueBybit}, login: true, foreign: true},
		{name: "subscription foreign id", venues: []schema.Venue{schema.VenueOKX, schema.VenueBybit, schema.VenueKraken}, foreign: true},
	}
	for _, k := range cases {
		for _, c := range privateCases(t) {
			if !slices.Contains(k.venues, c.venue) {
				continue
			}
			t.Run(k.name+"/"+string(c.venue), func(t *testing.T) {
				f := newFakePrivate(t, c.venue, c.pushes)
				var now atomicTime
				now.set(time.Now())
				f.setServerClock(now.get)
				var mu sync.Mutex
				altered := 0
				f.alter = func(_ int, msg []byte, replies []string) []string {
					isLogin := login[c.venue] != nil && bytes.Contains(msg, login[c.venue])
					if isLogin != k.login || !isLogin && !bytes.Contains(msg, []byte(`"`+firstSub[c.venue]+`"`)) {
						return replies // only the login, or the first subscription (each time sent)
					}
					mu.Lock()
					defer mu.Unlock()
					altered++
					if altered > 1 {
						return replies // the first only
					}
					if !k.foreign {
						return nil
					}
					out := make([]string, len(replies))
					for i, r := range replies {
						out[i] = echoedID.ReplaceAllString(r, "${1}999")
						require.NotEqual(t, r, out[i], "the answer echoes an id")
					}
					return out
				}
				alteredN := func() int {
					mu.Lock()
					defer mu.Unlock()
					return altered
				}
				clk := newManualClock()
				cfg := c.config(f, now.get)
				cfg.Client.Clock = clk
				cfg.Pools = schema.NewPools(nil)
				cfg.OnExecReport = func(r *schema.ExecReport) { cfg.Pools.Execs.Put(r) }
				s := start(t, cfg)

				// Fired once the altered request is out, its deadline armed
				// before its write; fired until the session reports it.
				require.Eventually(t, func() bool { return alteredN() >= 1 }, generous, pollEvery, "the request sent")
				clk.fireUntil(t, 10*time.Second, func() bool { return s.Stats().Order.Refused > 0 }, "the unanswered request is reported after 10 s on the clock")
				ctx, cancel := context.WithTimeout(context.Background(), generous)
				defer cancel()
				err := s.WaitConnected(ctx)
				require.ErrorIs(t, err, session.ErrNoAnswer)
				var le *session.LoginError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, c.venue, le.Venue)
				if k.login {
					assert.Equal(t, "login", le.Step)
				} else {
					assert.Equal(t, "subscribe", le.Step)
					if c.venue == schema.VenueCoinbase {
						// Paired by order (Coinbase echoes no id): the
						// heartbeats answer may be taken for "user"'s.
						assert.NotEmpty(t, le.Channel)
					} else {
						assert.Equal(t, firstSub[c.venue], le.Channel, "names the unanswered subscription")
					}
					assert.Equal(t, 1, le.Attempts)
				}

				// The retry's timer is armed after the refusal is told:
				// fired until the session is connected (a request counted
				// at the venue would not do: the first round's last
				// requests may reach it after the refusal).
				now.set(now.get().Add(2 * time.Second)) // a login made anew is newer
				clk.fireUntil(t, 0, func() bool {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
					defer cancel()
					return s.WaitConnected(ctx) == nil
				}, "tried again after the backoff, and in")
				if c.venue != schema.VenueCoinbase || k.login {
					assert.GreaterOrEqual(t, alteredN(), 2, "the unanswered request sent again")
				}
				assert.Equal(t, uint64(1), s.Stats().Order.Refused)
			})
		}
	}
}

// TestS28BinanceUserDataUnanswered: Binance's user-data subscription
// (WS-API userDataStream.subscribe.signature) whose answer never comes
// (held by the venue) ends like the other venues' private subscriptions:
// a LoginError wrapping ErrNoAnswer after 10 s on Client.Clock, then a
// retry on the same connection after the backoff, which gets in. Before
// (S28 review), it waited silently: orders never ready, WaitConnected
// never returned (orders.go subscribeUserData armed no deadline).
func TestS28BinanceUserDataUnanswered(t *testing.T) {
	v := startVenue(t)
	v.HoldUserData(true)
	t.Cleanup(func() { v.HoldUserData(false) })
	clk := newManualClock()
	cfg := session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true}
	cfg.Client.Clock = clk
	s := start(t, cfg)
	require.Eventually(t, func() bool { return v.HeldUserData() >= 1 }, generous, pollEvery, "the subscription sent")
	var err error
	clk.fireUntil(t, 10*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err = s.WaitConnected(ctx)
		return errors.Is(err, session.ErrNoAnswer)
	}, "the unanswered user-data subscription is reported after 10 s on the clock")
	var le *session.LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, schema.VenueBinance, le.Venue)
	assert.Equal(t, "subscribe", le.Step)
	assert.Equal(t, 1, le.Attempts)

	// Signed again after the backoff (1 s, wall clock: manualClock's
	// Sleep), held too; once the venue answers both, in order, the first's
	// late answer echoes an id no longer awaited and the retry's gets in.
	require.Eventually(t, func() bool { return v.HeldUserData() >= 2 }, generous, pollEvery, "signed again after the backoff")
	v.HoldUserData(false)
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		return s.WaitConnected(ctx) == nil
	}, generous, pollEvery, "in after the retry")
	assert.GreaterOrEqual(t, s.Stats().Order.UserDataSubs, uint64(2))
}

// brokenSigner cannot sign: every signature fails.
type brokenSigner struct{}

func (brokenSigner) AppendSignature(dst, _ []byte) ([]byte, error) {
	return dst, errors.New("test: the key cannot sign")
}

// TestS28rvBinanceUserDataUnsigned: a user-data subscription that could
// not be signed was never sent: WaitConnected reports the signing error,
// and no answer deadline stays armed for it (before, the deadline armed
// ahead of the signing fired 10 s later and replaced that error with
// ErrNoAnswer, then signed again on a backoff).
func TestS28rvBinanceUserDataUnsigned(t *testing.T) {
	v := startVenue(t)
	clk := newManualClock()
	cfg := session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: normalize.NewCredentials(apiKey, brokenSigner{}), Client: fastRedial, NoClockSync: true}
	cfg.Client.Clock = clk
	s := start(t, cfg)
	var err error
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err = s.WaitConnected(ctx)
		return err != nil && !errors.Is(err, context.DeadlineExceeded)
	}, generous, pollEvery, "the signing error reported")
	require.ErrorContains(t, err, "cannot sign")
	require.NotErrorIs(t, err, session.ErrNoAnswer)
	require.Eventually(t, func() bool { return clk.pendingOf(10*time.Second) == 0 }, generous, pollEvery,
		"no answer deadline armed for a subscription never sent")
}
