package meltica_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// s34ctKrakenTokens is a Kraken private WebSocket on loopback whose
// executions and balances subscriptions follow the token's documented
// life (Kraken "How to subscribe to the Kraken WebSocket private feeds":
// "Authentication tokens have an initial validity of 15 minutes (900
// seconds), but once a token is used to subscribe to a private feed, the
// token will remain valid as long as the subscription remains active").
// While out, it refuses every private subscription with
// "EService:Unavailable" (the article's known issue); a token handed out
// before the outage ended, never used by an accepted subscription, has
// expired by then and is refused with "EGeneral:Invalid arguments:token".
type s34ctKrakenTokens struct {
	*s30ctPeer
	mu       sync.Mutex
	tokens   int  // tokens handed out
	out      bool // the outage
	expired  int  // tokens up to this one have expired
	refused  int  // subscriptions refused
	accepted int  // private subscriptions accepted
}

func newS34ctKrakenTokens(t *testing.T) *s34ctKrakenTokens {
	k := &s34ctKrakenTokens{s30ctPeer: newS30ctPeer(t), out: true}
	k.rest("/0/public/AssetPairs", func(*http.Request) string { return s30ctKrakenPairs })
	k.rest("/0/private/GetWebSocketsToken", func(*http.Request) string {
		k.mu.Lock()
		k.tokens++
		n := k.tokens
		k.mu.Unlock()
		return fmt.Sprintf(`{"error":[],"result":{"token":"s34tok%d","expires":900}}`, n)
	})
	k.rest("/0/private/OpenOrders", func(*http.Request) string { return `{"error":[],"result":{"open":{}}}` })
	k.rest("/0/private/ClosedOrders", func(*http.Request) string { return `{"error":[],"result":{"closed":{},"count":0}}` })
	k.rest("/0/private/QueryOrders", func(*http.Request) string { return `{"error":[],"result":{}}` })
	k.rest("/0/private/QueryTrades", func(*http.Request) string { return `{"error":[],"result":{}}` })
	k.rest("/0/private/TradesHistory", func(*http.Request) string { return `{"error":[],"result":{"trades":{},"count":0}}` })
	pong := func(m map[string]any) string {
		return fmt.Sprintf(`{"method":"pong","req_id":%v,"time_in":"2023-09-24T14:10:23.799685Z","time_out":"2023-09-24T14:10:23.799703Z"}`, m["req_id"])
	}
	ack := func(m map[string]any, result string) string {
		return fmt.Sprintf(`{"method":%q,"result":%s,"success":true,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z","req_id":%v}`, m["method"], result, m["req_id"])
	}
	refuse := func(m map[string]any, why string) string {
		return fmt.Sprintf(`{"error":%q,"method":"subscribe","req_id":%v,"success":false,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`, why, m["req_id"])
	}
	k.handle("/v2", func(_ *s30ctConn, text string) []string {
		m := s28ctJSON(t, []byte(text))
		switch m["method"] {
		case "ping":
			return []string{pong(m)}
		case "subscribe":
			p := m["params"].(map[string]any)
			return []string{ack(m, fmt.Sprintf(`{"channel":%q,"snapshot":true,"symbol":"BTC/USD"}`, p["channel"]))}
		}
		return nil
	})
	k.handle("/v2auth", func(_ *s30ctConn, text string) []string {
		m := s28ctJSON(t, []byte(text))
		switch m["method"] {
		case "ping":
			return []string{pong(m)}
		case "subscribe":
			p := m["params"].(map[string]any)
			ch, _ := p["channel"].(string)
			tok, _ := p["token"].(string)
			var n int
			_, _ = fmt.Sscanf(tok, "s34tok%d", &n)
			k.mu.Lock()
			defer k.mu.Unlock()
			switch {
			case k.out:
				k.refused++
				return []string{refuse(m, "EService:Unavailable")}
			case n <= k.expired:
				k.refused++
				return []string{refuse(m, "EGeneral:Invalid arguments:token")}
			}
			k.accepted++
			return []string{ack(m, fmt.Sprintf(`{"channel":%q,"snapshot":true,"maxratecount":180}`, ch)),
				fmt.Sprintf(`{"channel":%q,"type":"snapshot","data":[],"sequence":1}`, ch)}
		}
		return nil
	})
	return k
}

// Kraken's token is valid 15 minutes until a subscription uses it. A
// private subscription refused for longer than that (a venue outage of 20
// minutes, the connection up throughout) and then tried again with the
// token fetched before it is refused for good: the session must fetch a
// token anew (session doc, KrakenKey: "a Kraken WebSocket token fetched
// from REST" to authenticate) and get its executions channel back, not
// retry a dead token forever while every report of the account goes
// unstreamed.
func TestS34ctKrakenTokenExpiresDuringARefusedSubscription(t *testing.T) {
	k := newS34ctKrakenTokens(t)
	clk := newS27ctClock()
	stop := make(chan struct{})
	// Timers up to 9 s fire as soon as they are armed: the session's
	// backoffs (2 s doubling to 8 s), never a REST call's 10 s timeout.
	pumped := s27ctPump(clk, 9*time.Second, stop)
	defer func() { close(stop); <-pumped }()
	execs := newS30ctExecs()
	opts := s30ctFast()
	opts.Clock, opts.BackoffBase, opts.BackoffCap = clk, 2*time.Second, 8*time.Second
	s, err := session.Start(context.Background(), session.Config{
		Venue:        schema.VenueKraken,
		Endpoints:    session.Endpoints{Stream: k.ws("/v2"), API: k.ws("/v2auth"), REST: k.srv.URL},
		Symbols:      []string{"BTC-USD"},
		Channels:     []string{"trade"},
		Key:          &session.KrakenKey{APIKey: "kraken-key", Secret: "a3Jha2VuLXNlY3JldA=="},
		NoClockSync:  true,
		Client:       opts,
		OnExecReport: execs.on,
	})
	require.NoError(t, err)
	execs.returnTo(s.Pools())
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })

	start := clk.Now()
	require.Eventually(t, func() bool {
		k.mu.Lock()
		defer k.mu.Unlock()
		return k.refused >= 2 && clk.Now().Sub(start) > 20*time.Minute
	}, 4*s27ctWait, 10*time.Millisecond, "the subscription refused through 20 minutes of outage (some 150 refusals, each a token and a connection)")
	k.mu.Lock()
	k.out, k.expired = false, k.tokens
	tokens := k.tokens
	k.mu.Unlock()
	require.Eventually(t, func() bool {
		k.mu.Lock()
		defer k.mu.Unlock()
		return k.accepted > 0
	}, s27ctWait, 10*time.Millisecond, "executions subscribed again after the outage (%d tokens handed out before its end)", tokens)
	// The pump may time out a request in flight now and then (two short
	// timers fired back to back); the session tries again: connected in
	// the end.
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return s.WaitConnected(ctx) == nil
	}, 2*s27ctWait, 10*time.Millisecond, "connected after the outage")
	k.mu.Lock()
	t.Logf("tokens %d, refusals %d, connections %d", k.tokens, k.refused, k.opened("/v2auth"))
	k.mu.Unlock()
}
