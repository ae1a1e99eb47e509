package session_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// idlessRefusal is each venue's refusal that echoes no request id: OKX
// v5 "WebSocket → Subscribe" failure example (no "id"), Bybit's and
// Kraken's answers without req_id/reqId, Coinbase's {"type":"error"}
// (Advanced Trade "WebSocket Overview": errors carry a message only).
var idlessRefusal = map[schema.Venue]string{
	schema.VenueOKX:      `{"event":"error","code":"60012","msg":"Invalid request","connId":"a4d3ae55"}`,
	schema.VenueBybit:    `{"success":false,"ret_msg":"error:handler not found,topic:position","conn_id":"cejreassvfrsfvb9v1a0-2m","op":"subscribe"}`,
	schema.VenueKraken:   `{"error":"EGeneral:Internal error","method":"subscribe","success":false,"time_in":"2024-05-19T16:27:13.694962Z","time_out":"2024-05-19T16:27:13.695006Z"}`,
	schema.VenueCoinbase: `{"type":"error","message":"failure to subscribe"}`,
}

// TestS29SoleSubscriptionIdlessRefusal: a refusal echoing no id while one
// subscription alone awaits its answer is that subscription's refusal:
// WaitConnected reports the venue's words (and OKX's code) at once, the
// clock never fired. Before (S28), where every subscription went with an
// id, it answered none: the subscription waited 10 s on Client.Clock for
// ErrNoAnswer, the venue's code lost.
func TestS29SoleSubscriptionIdlessRefusal(t *testing.T) {
	last := map[schema.Venue]string{schema.VenueOKX: "positions", schema.VenueBybit: "position", schema.VenueKraken: "balances", schema.VenueCoinbase: "heartbeats"}
	for _, c := range privateCases(t) {
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, c.pushes)
			var mu sync.Mutex
			refused := 0
			f.alter = func(_ int, msg []byte, replies []string) []string {
				if !bytes.Contains(msg, []byte(`"subscribe"`)) || !bytes.Contains(msg, []byte(`"`+last[c.venue]+`"`)) {
					return replies
				}
				mu.Lock()
				defer mu.Unlock()
				if refused++; refused > 1 {
					return replies
				}
				return []string{idlessRefusal[c.venue]} // the last one's answer: the others are answered before it
			}
			cfg := c.config(f, time.Now)
			cfg.Client.Clock = newManualClock() // never fired: no deadline ends the wait
			cfg.Pools = schema.NewPools(nil)
			cfg.OnExecReport = func(r *schema.ExecReport) { cfg.Pools.Execs.Put(r) }
			s := start(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			err := s.WaitConnected(ctx)
			var le *session.LoginError
			require.ErrorAs(t, err, &le, "the venue's refusal, not a wait")
			assert.NotErrorIs(t, err, session.ErrNoAnswer)
			assert.Equal(t, "subscribe", le.Step)
			assert.Equal(t, last[c.venue], le.Channel)
			assert.NotEmpty(t, le.Msg)
			if c.venue == schema.VenueOKX {
				assert.Equal(t, int64(60012), le.Code)
			}
		})
	}
}

// TestS29SoleOrderIdlessRefusal: an order request alone awaiting its
// answer on the connection, refused by an answer that echoes no request
// id (OKX {"event":"error",…}, a Bybit order answer without reqId, a
// Kraken add_order answer without req_id), gets that refusal at once as a
// *VenueError with the venue's code. Before, it waited for its caller's
// ctx: the venue's code was never seen.
func TestS29SoleOrderIdlessRefusal(t *testing.T) {
	refusal := map[schema.Venue]string{
		schema.VenueOKX:    idlessRefusal[schema.VenueOKX],
		schema.VenueBybit:  `{"retCode":10404,"retMsg":"op not found","op":"order.create","connId":"cejreassvfrsfvb9v1a0-2m"}`,
		schema.VenueKraken: `{"error":"EGeneral:Invalid arguments","method":"add_order","success":false,"time_in":"2024-05-19T16:27:13.694962Z","time_out":"2024-05-19T16:27:13.695006Z"}`,
	}
	code := map[schema.Venue]int64{schema.VenueOKX: 60012, schema.VenueBybit: 10404}
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			f, s := connectedOrders(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			f.setScript(func(orderSeen) ([]string, bool) { return []string{refusal[c.venue]}, false })
			_, err := place(t, s, ctx, "idless1")
			var verr *session.VenueError
			require.ErrorAs(t, err, &verr, "the venue's refusal, not ctx's end")
			assert.Equal(t, code[c.venue], verr.Code)
			assert.NotEmpty(t, verr.Msg)
			assert.NotZero(t, verr.RequestID, "names the request it answers")
			assert.Zero(t, s.Stats().Order.Pending)
		})
	}
}

// TestS29BinanceSoleIdlessRefusal: Binance's WS-API answers {"id":null,…}
// when it could not read the request's id ("Response format"); the order
// alone awaiting an answer takes it: its code at once.
func TestS29BinanceSoleIdlessRefusal(t *testing.T) {
	a := newScriptedAPI(t)
	v := startVenue(t)
	ep := endpoints(v)
	ep.API = a.url
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true})
	waitConnected(t, s)
	// No reconciliation query in flight: the order alone awaits an answer.
	require.Eventually(t, func() bool { return s.Stats().Order.OpenCountKnown }, generous, pollEvery)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(s, t, "idless1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req)
	done := placeAsync(ctx, s, req)
	r := a.next(t)
	require.NoError(t, r.answer(`{"id":null,"status":400,"error":{"code":-1102,"msg":"Malformed request."}}`))
	err := <-done
	var verr *session.VenueError
	require.ErrorAs(t, err, &verr, "the venue's refusal, not ctx's end")
	assert.Equal(t, int64(-1102), verr.Code)
	assert.True(t, strings.HasPrefix(verr.Msg, "Malformed"))
}

// TestS29BinanceIdlessRefusalAmbiguous: a request whose caller gave up may
// still be answered; with it and another awaiting, a refusal echoing no
// id answers neither: the other gets its own answer. Before (this
// branch's first cut), the given-up request was forgotten and the
// id-less refusal taken for the other's.
func TestS29BinanceIdlessRefusalAmbiguous(t *testing.T) {
	a := newScriptedAPI(t)
	v := startVenue(t)
	ep := endpoints(v)
	ep.API = a.url
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true})
	waitConnected(t, s)
	require.Eventually(t, func() bool { return s.Stats().Order.OpenCountKnown }, generous, pollEvery)

	gaveUp, cancelA := context.WithCancel(context.Background())
	reqA := limitOrder(s, t, "gaveup1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(reqA)
	doneA := placeAsync(gaveUp, s, reqA)
	a.next(t)
	cancelA()
	require.ErrorIs(t, <-doneA, context.Canceled)

	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	reqB := limitOrder(s, t, "b1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(reqB)
	done := make(chan placed, 1)
	go func() {
		ack, err := s.Place(ctx, reqB)
		done <- placed{ack, err}
	}()
	b := a.next(t)
	require.NoError(t, b.answer(`{"id":null,"status":400,"error":{"code":-1102,"msg":"Malformed request."}}`))
	require.NoError(t, b.answer(ackBody(b.id, "b1", 7)))
	p := <-done
	require.NoError(t, p.err, "B's own answer, not the id-less refusal")
	assert.Equal(t, "b1", p.ack.ClientOrderID.String())
}
