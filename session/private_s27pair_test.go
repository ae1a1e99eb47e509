package session_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS27SubscriptionAnswersPairedByReqID: Bybit (req_id, "WebSocket
// Connect → How to Subscribe to Topics": "req_id … used to identify the
// request in the response") and Kraken v2 (req_id, "Optional client
// originated request identifier sent as acknowledgment in the response")
// echo the request's id in its answer, and nothing says they answer a
// connection's requests in turn. A refusal must name the subscription it
// answers: answered out of order, the session attributed the second
// topic's refusal to the first, retried the first (which the venue had
// taken: Bybit and Kraken refuse it then, for ever) and never the second;
// an answer to no request of the connection's (a late one) was taken for
// the first subscription's.
//
// S28: OKX too, since its subscribe takes an "id" it echoes in the answer
// (OKX v5 "WebSocket → Subscribe": "It will be returned in response
// message for identifying the corresponding request"); paired by order
// before, its out-of-order answers named the wrong channel and a stray
// error was taken for the first subscription's refusal.
func TestS27SubscriptionAnswersPairedByReqID(t *testing.T) {
	type tc struct {
		name        string
		swap        bool
		unsolicited map[schema.Venue]string
		refuse      bool // the second channel is refused once
	}
	second := map[schema.Venue]string{schema.VenueBybit: "execution", schema.VenueKraken: "balances", schema.VenueOKX: "account"}
	first := map[schema.Venue]string{schema.VenueBybit: "order", schema.VenueKraken: "executions", schema.VenueOKX: "orders"}
	cases := []tc{
		{name: "out of order, second refused", swap: true, refuse: true},
		{name: "unsolicited refusal", unsolicited: map[schema.Venue]string{
			schema.VenueBybit:  `{"success":false,"ret_msg":"error:already subscribed,topic:order","conn_id":"cejreassvfrsfvb9v1a0-2m","req_id":"777","op":"subscribe"}`,
			schema.VenueKraken: `{"error":"Already subscribed","method":"subscribe","req_id":777,"success":false,"time_in":"2024-05-19T16:27:13.694962Z","time_out":"2024-05-19T16:27:13.695006Z"}`,
			schema.VenueOKX:    `{"id":"777","event":"error","code":"60012","msg":"Invalid request","connId":"a4d3ae55"}`,
		}},
		// S28: an answer that echoes no id, where every request sent one,
		// answers none of them (an error about another message, a late
		// login answer): taken before for the first subscription's.
		{name: "unsolicited refusal without id", unsolicited: map[schema.Venue]string{
			schema.VenueBybit:  `{"success":false,"ret_msg":"error:handler not found,topic:order","conn_id":"cejreassvfrsfvb9v1a0-2m","op":"subscribe"}`,
			schema.VenueKraken: `{"error":"EGeneral:Internal error","method":"subscribe","success":false,"time_in":"2024-05-19T16:27:13.694962Z","time_out":"2024-05-19T16:27:13.695006Z"}`,
			schema.VenueOKX:    `{"event":"error","code":"60012","msg":"Invalid request","connId":"a4d3ae55"}`,
		}},
	}
	for _, c := range privateCases(t) {
		bad, ok := second[c.venue]
		if !ok {
			continue
		}
		for _, k := range cases {
			t.Run(string(c.venue)+"/"+k.name, func(t *testing.T) {
				f := newFakePrivate(t, c.venue, c.pushes)
				var mu sync.Mutex
				subs := map[string]int{}
				f.swapSubs, f.unsolicited = k.swap, k.unsolicited[c.venue]
				f.refuseSub = func(_ int, ch string) bool {
					mu.Lock()
					defer mu.Unlock()
					subs[ch]++
					return k.refuse && ch == bad && subs[ch] == 1
				}
				count := func(ch string) int {
					mu.Lock()
					defer mu.Unlock()
					return subs[ch]
				}
				clk := newManualClock()
				cfg := c.config(f, time.Now)
				cfg.Client.Clock = clk
				cfg.Pools = schema.NewPools(nil)
				cfg.OnExecReport = func(r *schema.ExecReport) { cfg.Pools.Execs.Put(r) }
				s := start(t, cfg)

				if k.refuse {
					ctx, cancel := context.WithTimeout(context.Background(), generous)
					err := s.WaitConnected(ctx)
					cancel()
					var le *session.LoginError
					require.ErrorAs(t, err, &le)
					assert.Equal(t, bad, le.Channel, "the refusal names the subscription it answers")
					require.Eventually(t, func() bool { return clk.pending() > 0 }, generous, pollEvery, "a retry is scheduled")
					clk.fire()
					require.Eventually(t, func() bool { return count(bad) == 2 }, generous, pollEvery, "tried again")
				}
				waitConnected(t, s)
				assert.Equal(t, 1, count(first[c.venue]), "the first subscription, taken, is not sent again")
				if k.refuse {
					assert.Equal(t, 2, count(bad), "the refused one is tried again")
				}
			})
		}
	}
}
