package meltica_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS38ctCloseWithOrdersAwaitingTheirAnswer closes an OKX session while
// a place and a cancel it wrote wait for the venue's answer, which never
// comes; the place's order was taken (its "live" push came) before.
//
// Session.Close: "Orders still waiting for an answer return ErrClosed."
// Session.Place: "ErrClosed when Close closed the connection under the
// write"; ErrNotSent only for a request never written ("a failed write
// may have reached the venue: it is never ErrNotSent"); "The request id
// is in the returned Ack whenever one was assigned". Package meltica:
// Meltica "leaves none [no goroutine] running after Close" (goleak, in
// TestMain), and Close's leak check: "Session.Outstanding is then 0".
// The report the venue pushed before Close reached Config.OnExecReport;
// nothing reaches it after Close returned.
//
// OKX v5 "WS / Place order", "WS / Cancel order" (the answer
// {"id","op","code","data":[…]}), "Order channel" (state "live").
func TestS38ctCloseWithOrdersAwaitingTheirAnswer(t *testing.T) {
	o := newS30ctOKX(t)
	o.mu.Lock()
	o.order = func(_ *s30ctConn, _, cid string) []string {
		if cid == "s38ctL" { // taken: its report, no answer
			return []string{s30ctOKXOrderPush(cid, "9381", "live", "", "0", "", "")}
		}
		return nil
	}
	o.cancel = func(*s30ctConn, string, string) []string { return nil }
	o.mu.Unlock()
	execs := newS30ctExecs()
	s := o.start(t, execs, nil)
	ctx := s31ctConnected(t, s)

	type result struct {
		what string
		ack  session.Ack
		err  error
	}
	results := make(chan result, 3)
	call := func(what string, req *schema.OrderRequest, f func(context.Context, *schema.OrderRequest) (session.Ack, error)) {
		go func() {
			ack, err := f(ctx, req)
			s.Pools().Orders.Put(req)
			results <- result{what, ack, err}
		}()
	}
	call("place of a taken order", s30ctOKXOrder(t, s, "s38ctL"), s.Place)
	o.await("/ws/v5/private", func(m string) bool { return s38ctHasOp(m, "order", "s38ctL") })
	execs.wait(t, "s38ctL", "", func(x []schema.Execution) bool { return len(x) == 1 }, "the order's live report")
	call("place never answered", s30ctOKXOrder(t, s, "s38ctN"), s.Place)
	o.await("/ws/v5/private", func(m string) bool { return s38ctHasOp(m, "order", "s38ctN") })
	cancel := s30ctOKXOrder(t, s, "s38ctX")
	cancel.Action, cancel.OrigClientOrderID = schema.ActionCancel, schema.MustID("s38ctL")
	call("cancel never answered", cancel, s.Cancel)
	o.await("/ws/v5/private", func(m string) bool { return s38ctHasOp(m, "cancel-order", "s38ctL") })

	cctx, stop := context.WithTimeout(context.Background(), s27ctWait)
	defer stop()
	require.NoError(t, s.Close(cctx))
	assert.Zero(t, s.Outstanding(), "every pooled object back")
	for range 3 {
		select {
		case r := <-results:
			assert.ErrorIs(t, r.err, session.ErrClosed, "%s: %v", r.what, r.err)
			assert.NotErrorIs(t, r.err, session.ErrNotSent, "%s: written, so never ErrNotSent", r.what)
			assert.NotZero(t, r.ack.RequestID, "%s: the request id assigned is in the Ack", r.what)
		case <-time.After(s27ctWait):
			t.Fatal("a request awaiting its answer outlived Close")
		}
	}
	n := len(execs.of("s38ctL", ""))
	o.conn("/ws/v5/private", 1).send(s30ctOKXOrderPush("s38ctL", "9381", "canceled", "", "0", "", ""))
	late := &schema.OrderRequest{Venue: schema.VenueOKX, Symbol: "BTC-USDT", ClientOrderID: schema.MustID("s38ctZ"), Side: schema.SideBuy,
		Type: schema.OrderTypeLimit, TimeInForce: schema.TIFGTC, Price: schema.MustParseDecimal("1000.1"), Qty: schema.MustParseDecimal("0.5")}
	_, err := s.Place(context.Background(), late)
	assert.ErrorIs(t, err, session.ErrClosed, "a Place after Close")
	assert.ErrorIs(t, err, session.ErrNotSent, "a Place after Close sends nothing")
	assert.Equal(t, n, len(execs.of("s38ctL", "")), "nothing reaches OnExecReport after Close")
}

// s38ctHasOp reports whether the OKX request m is op of client order id
// cid (a cancel names the order it cancels by clOrdId).
func s38ctHasOp(m, op, cid string) bool {
	return strings.Contains(m, fmt.Sprintf(`"op":"%s"`, op)) && strings.Contains(m, fmt.Sprintf(`"clOrdId":"%s"`, cid))
}

// s38ctCloseMidPlace places req on s, waits until the venue has it
// (written), closes the session with the place unanswered and checks
// the Place returns ErrClosed, never ErrNotSent, with its request id in
// the Ack, and nothing left outstanding.
func s38ctCloseMidPlace(t *testing.T, s *session.Session, req *schema.OrderRequest, written func()) {
	ctx := s31ctConnected(t, s)
	type result struct {
		ack session.Ack
		err error
	}
	done := make(chan result, 1)
	go func() {
		ack, err := s.Place(ctx, req)
		s.Pools().Orders.Put(req)
		done <- result{ack, err}
	}()
	written()
	cctx, stop := context.WithTimeout(context.Background(), s27ctWait)
	defer stop()
	require.NoError(t, s.Close(cctx))
	assert.Zero(t, s.Outstanding())
	select {
	case r := <-done:
		assert.ErrorIs(t, r.err, session.ErrClosed, "%v", r.err)
		assert.NotErrorIs(t, r.err, session.ErrNotSent, "written, so never ErrNotSent")
		assert.NotZero(t, r.ack.RequestID, "the request id assigned is in the Ack")
	case <-time.After(s27ctWait):
		t.Fatal("a place awaiting its answer outlived Close")
	}
}

// TestS38ctBinanceCloseWithAPlaceAwaitingItsAnswer is the same on
// Binance: a WS-API written from Binance's docs (WebSocket API "Request
// format", "Response format": {"id","status","result"}; "Subscribe to
// User Data Stream through signature subscription" answered
// {"subscriptionId":0}) takes the order.place and never answers it.
func TestS38ctBinanceCloseWithAPlaceAwaitingItsAnswer(t *testing.T) {
	p, s := s38ctBinancePeer(t, func(string, map[string]any) string { return "" })
	s38ctCloseMidPlace(t, s, s27ctOrder(t, s, "s38ct-b1"), func() {
		p.await("/ws-api/v3", func(m string) bool { return strings.Contains(m, `"order.place"`) })
	})
}

// TestS38ctOKXCloseWhileLoggingInOrSubscribing closes an OKX session
// whose private connection waits for the venue: its login unanswered, or
// its login taken and its channels' subscriptions unanswered. A
// WaitConnected and a Place waiting then return ErrClosed (the Place
// with ErrNotSent: it never left), Close returns without error, every
// pooled object is back, and no goroutine is left (goleak, TestMain).
//
// Session.WaitConnected "returns early when ... the session is closed
// (ErrClosed)"; Session.Place: "ErrNotSent too when ... so does every
// error of the wait for the connection — ctx's, ErrClosed"; Session.Close
// (the leak check). OKX v5 "WebSocket → Login", "Subscribe".
func TestS38ctOKXCloseWhileLoggingInOrSubscribing(t *testing.T) {
	for _, stage := range []string{"login", "subscribe"} {
		t.Run(stage, func(t *testing.T) {
			o := newS30ctOKX(t)
			o.handle("/s38ct/private", func(_ *s30ctConn, text string) []string {
				if stage == "subscribe" && strings.Contains(text, `"op":"login"`) {
					return []string{`{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}`}
				}
				return nil // the login, or the subscriptions, never answered
			})
			s, err := session.Start(context.Background(), session.Config{
				Venue:       schema.VenueOKX,
				Endpoints:   session.Endpoints{Stream: o.ws("/ws/v5/public"), API: o.ws("/s38ct/private"), REST: o.srv.URL},
				Symbols:     []string{"BTC-USDT"},
				Channels:    []string{"trades"},
				Key:         &session.OKXKey{APIKey: "okx-key", Passphrase: "okx-pass", Secret: []byte("okx-secret")},
				NoClockSync: true,
				Client:      s30ctFast(),
			})
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close(context.Background()) })
			want := `"op":"login"`
			if stage == "subscribe" {
				want = `"op":"subscribe"`
			}
			o.await("/s38ct/private", func(m string) bool { return strings.Contains(m, want) })
			waited := make(chan error, 1)
			go func() { waited <- s.WaitConnected(context.Background()) }()
			placed := make(chan error, 1)
			req := s30ctOKXOrder(t, s, "s38ctW")
			go func() {
				_, err := s.Place(context.Background(), req)
				s.Pools().Orders.Put(req)
				placed <- err
			}()
			cctx, stop := context.WithTimeout(context.Background(), s27ctWait)
			defer stop()
			require.Eventually(t, func() bool { return o.opened("/s38ct/private") >= 1 }, s27ctWait, time.Millisecond)
			require.NoError(t, s.Close(cctx))
			for what, ch := range map[string]chan error{"WaitConnected": waited, "Place": placed} {
				select {
				case err := <-ch:
					assert.ErrorIs(t, err, session.ErrClosed, "%s waiting at Close: %v", what, err)
					if what == "Place" {
						assert.ErrorIs(t, err, session.ErrNotSent, "it never left")
					}
				case <-time.After(s27ctWait):
					t.Fatalf("%s waiting at the %s outlived Close", what, stage)
				}
			}
			assert.Zero(t, s.Outstanding())
			assert.Empty(t, o.find("/s38ct/private", func(m string) bool { return strings.Contains(m, `"op":"order"`) }), "no order was sent")
		})
	}
}

// TestS38ctBybitKrakenCloseWithAPlaceAwaitingItsAnswer is the Close
// mid-order of TestS38ctCloseWithOrdersAwaitingTheirAnswer on Bybit (the
// order.create written on the trade connection, "WebSocket Trade
// Guideline") and Kraken (add_order on the authenticated WebSocket, Spot
// WebSocket v2): unanswered at Close, the Place returns ErrClosed, never
// ErrNotSent, with its request id in the Ack.
func TestS38ctBybitKrakenCloseWithAPlaceAwaitingItsAnswer(t *testing.T) {
	t.Run("Bybit", func(t *testing.T) {
		b := newS30ctBybit(t)
		b.create = func(*s30ctConn, string, string) []string { return nil }
		s := b.start(t, newS30ctExecs(), nil)
		s31ctConnected(t, s)
		s38ctCloseMidPlace(t, s, s30ctBybitOrder(t, s, "s38ctBY"), func() {
			b.await("/v5/trade", func(m string) bool { return strings.Contains(m, `"order.create"`) })
		})
	})
	t.Run("Kraken", func(t *testing.T) {
		k := newS30ctKraken(t)
		k.add = func(*s30ctConn, any, string) []string { return nil }
		s := k.start(t, newS30ctExecs())
		s31ctConnected(t, s)
		s38ctCloseMidPlace(t, s, s30ctKrakenOrder(t, s, "s38ctKR"), func() {
			k.await("/v2auth", func(m string) bool { return strings.Contains(m, `"add_order"`) })
		})
	})
}
