package meltica_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// s38ctStalledREST serves every REST path of a loopback venue by
// stalling: head, when set, is written (with a longer Content-Length) and
// flushed first, then nothing more until the client gives up or the test
// ends.
func s38ctStalledREST(t *testing.T, head string) *s30ctPeer {
	p := newS30ctPeer(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before the server's Close (Cleanup is LIFO)
	p.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if head != "" {
			w.Header().Set("Content-Length", "100000")
			_, _ = w.Write([]byte(head))
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	return p
}

// s38ctAdvanceWhen moves clk by d once a timer of at most d is pending
// (the one the test waits for: armed by then).
func s38ctAdvanceWhen(t *testing.T, clk *s27ctClock, d time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		p := clk.Pending()
		return len(p) > 0 && p[0] <= d
	}, s27ctWait, time.Millisecond, "no timer armed on the clock")
	clk.Advance(d)
}

// TestS38ctStartFailsWithErrRESTTimeout starts a Binance session whose
// REST never answers, and one whose REST sends the headers and the start
// of a body and then stalls: Start fails with ErrRESTTimeout, which wraps
// context.DeadlineExceeded, once Config.RESTTimeout (10 s by default) has
// passed on Client.Clock.
//
// Session: "Start loads the instruments and the venue's time (Binance's
// REST), each call bounded by Config.RESTTimeout on Client.Clock (10 s by
// default ...: Start fails with ErrRESTTimeout)"; ErrRESTTimeout "a REST
// call of the session ... was not answered, to its last byte, within
// Config.RESTTimeout on Client.Clock. It wraps context.DeadlineExceeded."
func TestS38ctStartFailsWithErrRESTTimeout(t *testing.T) {
	for name, head := range map[string]string{"no answer": "", "half an answer": `{"timezone":"UTC","serverTime":1`} {
		t.Run(name, func(t *testing.T) {
			rest := s38ctStalledREST(t, head)
			clk := newS27ctClock()
			opts := s30ctFast()
			opts.Clock = clk
			started := make(chan error, 1)
			go func() {
				s, err := session.Start(context.Background(), session.Config{
					Endpoints:   session.Endpoints{Stream: rest.ws("/stream"), REST: rest.srv.URL, API: rest.ws("/ws-api/v3")},
					Symbols:     []string{"BTC-USDT"},
					Channels:    []string{"trade"},
					Credentials: normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
					Client:      opts,
				})
				if err == nil {
					_ = s.Close(context.Background())
				}
				started <- err
			}()
			s38ctAdvanceWhen(t, clk, session.DefaultRESTTimeout)
			select {
			case err := <-started:
				require.Error(t, err)
				assert.ErrorIs(t, err, session.ErrRESTTimeout)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			case <-time.After(s27ctWait):
				t.Fatalf("Start still waiting on a stalled REST after %v of its clock", session.DefaultRESTTimeout)
			}
		})
	}
}

// TestS38ctOKXOrderUnansweredIsErrNoAnswer writes an OKX place the venue
// never answers on a connection that stays up: after
// Config.OrderAnswerTimeout (30 s by default) on Client.Clock, Place
// returns an error wrapping ErrNoAnswer, not ErrNotSent, with the request
// id in the Ack.
//
// Session.Place: "ErrNoAnswer (wrapped, with the request id in the Ack)
// when the venue did not answer within Config.OrderAnswerTimeout (30 s by
// default, on Config.Client.Clock) on a connection that stayed up".
func TestS38ctOKXOrderUnansweredIsErrNoAnswer(t *testing.T) {
	o := newS30ctOKX(t)
	o.clock = newS27ctClock()
	o.order = func(*s30ctConn, string, string) []string { return nil }
	execs := newS30ctExecs()
	s := o.start(t, execs, nil)
	ctx := s31ctConnected(t, s)
	type result struct {
		ack session.Ack
		err error
	}
	done := make(chan result, 1)
	req := s30ctOKXOrder(t, s, "s38ctNA")
	go func() {
		ack, err := s.Place(ctx, req)
		s.Pools().Orders.Put(req)
		done <- result{ack, err}
	}()
	o.await("/ws/v5/private", func(m string) bool { return s38ctHasOp(m, "order", "s38ctNA") })
	require.Eventually(t, func() bool {
		for _, d := range o.clock.Pending() {
			if d > session.DefaultOrderAnswerTimeout-time.Second && d <= session.DefaultOrderAnswerTimeout {
				return true
			}
		}
		return false
	}, s27ctWait, time.Millisecond, "the answer's timeout armed: %v", o.clock.Pending())
	o.clock.Advance(session.DefaultOrderAnswerTimeout)
	select {
	case r := <-done:
		assert.ErrorIs(t, r.err, session.ErrNoAnswer, "%v", r.err)
		assert.NotErrorIs(t, r.err, session.ErrNotSent)
		assert.NotZero(t, r.ack.RequestID, "the request id is in the Ack")
	case <-time.After(s27ctWait):
		t.Fatal("Place still waiting 30 s of its clock after the write")
	}
}

// TestS38ctOKXLoginUnansweredIsLoginErrorNoAnswer keeps an OKX login
// unanswered: after 10 s on Client.Clock WaitConnected returns a
// *LoginError of Step "login" wrapping ErrNoAnswer.
//
// ErrNoAnswer: "the venue did not answer a private login or subscription
// (OKX login and subscribe, ...) within 10 s on Client.Clock ... Wrapped
// by the [LoginError] the session reports (Step "login", ...)".
func TestS38ctOKXLoginUnansweredIsLoginErrorNoAnswer(t *testing.T) {
	o := newS30ctOKX(t)
	o.clock = newS27ctClock()
	o.login = func(*s30ctConn) []string { return nil }
	execs := newS30ctExecs()
	s := o.start(t, execs, nil)
	waited := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
	defer cancel()
	go func() { waited <- s.WaitConnected(ctx) }()
	o.await("/ws/v5/private", func(m string) bool { return strings.Contains(m, `"op":"login"`) })
	// The login's 10 s is armed before the login is written; the dial's
	// timeout (wsclient.DefaultDialTimeout, 10 s too) may still be armed
	// then (Connected is announced before the dial stops it:
	// s27ctDialDone), and so may the login write's own
	// (wsclient.DefaultWriteTimeout, 5 s: the venue may have read the
	// login before the write returned). Moved through either, the clock
	// would cut the connection (coder/websocket closes a connection whose
	// write's context ends), whose redial then waits on the clock: so the
	// clock moves once the login's 10 s is the only timer due within it.
	require.Eventually(t, func() bool {
		n := 0
		for _, d := range o.clock.Pending() {
			if d <= 10*time.Second {
				n++
			}
		}
		return n == 1 && slices.Contains(o.clock.Pending(), 10*time.Second)
	}, s27ctWait, time.Millisecond, "the login's 10 s armed alone: %v", o.clock.Pending())
	o.clock.Advance(10 * time.Second)
	err := <-waited
	var le *session.LoginError
	require.ErrorAs(t, err, &le, "%v", err)
	assert.Equal(t, "login", le.Step)
	assert.Equal(t, schema.VenueOKX, le.Venue)
	assert.ErrorIs(t, err, session.ErrNoAnswer)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "the session's 10 s, not ctx: %v", err)
}

// s38ctBadAnswers places each order of bad (client order id → the
// venue's answer to its place, from answer) and expects ErrBadAnswer for
// each, then places good and expects an Ack: the connection goes on.
func s38ctBadAnswers(t *testing.T, s *session.Session, mk func(cid string) *schema.OrderRequest, bad map[string]string, good string) {
	t.Helper()
	ctx := s31ctConnected(t, s)
	for cid, answer := range bad {
		req := mk(cid)
		ack, err := s.Place(ctx, req)
		s.Pools().Orders.Put(req)
		assert.ErrorIs(t, err, session.ErrBadAnswer, "%s: answered %s: got Ack %+v, err %v", cid, answer, ack.Execution, err)
		assert.NotErrorIs(t, err, session.ErrNotSent, cid)
	}
	req := mk(good)
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err, "the connection goes on")
}

// TestS38ctUnreadableAnswerIsErrBadAnswer answers places with answers
// that echo the request's id (and op) but cannot be read as the venue's
// answer to a place — JSON cut short, the order's result not an object,
// an empty or missing result — on every venue with orders: Place returns
// ErrBadAnswer (the outcome unknown), never an Ack of no order, never a
// panic, and the connection goes on.
//
// ErrBadAnswer: "the venue answered the request, but its answer could not
// be read (the parser's error is wrapped). The venue may or may not have
// acted on the request: its execution reports tell". Session.Place
// returns "an Ack when it accepted the order": an answer that names no
// order does not say so. The answers' forms: OKX v5 "WS / Place order"
// ({"id","op","code","msg","data":[{clOrdId,ordId,tag,ts,sCode,sMsg}]}),
// Bybit v5 "WebSocket Trade Guideline" ({"reqId","retCode","retMsg","op",
// "data":{orderId,orderLinkId}}), Kraken Spot WebSocket v2 "add_order"
// ({"method","req_id","result":{order_id,cl_ord_id},"success"}), Binance
// WebSocket API "Place new order" ({"id","status","result":{…}}).
func TestS38ctUnreadableAnswerIsErrBadAnswer(t *testing.T) {
	t.Run("OKX", func(t *testing.T) {
		bad := map[string]string{
			"s38ctO1": `"data":"not an array"`,
			"s38ctO2": `"data":[7]`,
			"s38ctO3": `"data":[]`,
			"s38ctO4": `"data":null`,
			"s38ctO5": `"data":[{"clOrdId":"s38ctO5","ordId":"1","sCode":"0"}`, // the array never closed
		}
		o := newS30ctOKX(t)
		o.order = func(_ *s30ctConn, id, cid string) []string {
			if d, ok := bad[cid]; ok {
				return []string{`{"id":"` + id + `","op":"order","code":"0","msg":"",` + d + `,"inTime":"1","outTime":"2"}`}
			}
			return []string{s30ctOKXAck(id, "order", cid, "9390")}
		}
		s := o.start(t, newS30ctExecs(), nil)
		s38ctBadAnswers(t, s, func(cid string) *schema.OrderRequest { return s30ctOKXOrder(t, s, cid) }, bad, "s38ctOK")
	})
	t.Run("Bybit", func(t *testing.T) {
		bad := map[string]string{
			"s38ctY1": `"data":"not an object"`,
			"s38ctY2": `"data":[]`,
			"s38ctY3": `"data":{}`,
			"s38ctY4": `"data":null`,
		}
		b := newS30ctBybit(t)
		b.create = func(_ *s30ctConn, rid, link string) []string {
			if d, ok := bad[link]; ok {
				return []string{fmt.Sprintf(`{"reqId":%q,"retCode":0,"retMsg":"OK","op":"order.create",%s,"header":{},"connId":"c1"}`, rid, d)}
			}
			return []string{s30ctBybitAnswer(rid, "order.create", 0, "OK", "7001", link)}
		}
		s := b.start(t, newS30ctExecs(), nil)
		s38ctBadAnswers(t, s, func(cid string) *schema.OrderRequest { return s30ctBybitOrder(t, s, cid) }, bad, "s38ctOK")
	})
	t.Run("Kraken", func(t *testing.T) {
		bad := map[string]string{
			"s38ctK1": `"result":"not an object"`,
			"s38ctK2": `"result":[]`,
			"s38ctK3": `"result":{}`,
			"s38ctK4": `"result":null`,
		}
		k := newS30ctKraken(t)
		k.add = func(_ *s30ctConn, reqID any, cid string) []string {
			if d, ok := bad[cid]; ok {
				return []string{fmt.Sprintf(`{"method":"add_order","req_id":%v,%s,"success":true,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`, reqID, d)}
			}
			return []string{s30ctKrakenAdded(reqID, cid, "OABC-1")}
		}
		s := k.start(t, newS30ctExecs())
		s38ctBadAnswers(t, s, func(cid string) *schema.OrderRequest { return s30ctKrakenOrder(t, s, cid) }, bad, "s38ctOK")
	})
	t.Run("Binance", func(t *testing.T) {
		bad := map[string]string{
			"s38ctN1": `"result":7`,
			"s38ctN2": `"result":[]`,
			"s38ctN3": `"result":null`,
		}
		_, s := s38ctBinancePeer(t, func(id string, params map[string]any) string {
			cid, _ := params["newClientOrderId"].(string)
			if d, ok := bad[cid]; ok {
				return fmt.Sprintf(`{"id":%s,"status":200,%s}`, id, d)
			}
			return fmt.Sprintf(`{"id":%s,"status":200,"result":{"symbol":"BTCUSDT","orderId":28,"clientOrderId":%q,"transactTime":1507725176595}}`, id, cid)
		})
		s38ctBadAnswers(t, s, func(cid string) *schema.OrderRequest { return s27ctOrder(t, s, cid) }, bad, "s38ctOK")
	})
}

// TestS38ctUnreadableCancelAnswerIsErrBadAnswer is the cancel's sibling:
// a cancel answered with a success that names no order (an empty result)
// returns ErrBadAnswer, not an Ack, on every venue with orders. Sources
// as TestS38ctUnreadableAnswerIsErrBadAnswer; OKX "WS / Cancel order",
// Bybit "order.cancel", Kraken "cancel_order", Binance "Cancel order
// (TRADE)" ({"id","status","result":{symbol, origClientOrderId, orderId,
// …}}).
func TestS38ctUnreadableCancelAnswerIsErrBadAnswer(t *testing.T) {
	cancelOf := func(s *session.Session, mk func(string) *schema.OrderRequest) error {
		ctx := s31ctConnected(t, s)
		req := mk("s38ctC1")
		req.Action, req.OrigClientOrderID = schema.ActionCancel, schema.MustID("s38ctC0")
		ack, err := s.Cancel(ctx, req)
		s.Pools().Orders.Put(req)
		if err == nil {
			t.Logf("Ack of the cancel: %+v", ack.Execution)
		}
		return err
	}
	t.Run("OKX", func(t *testing.T) {
		o := newS30ctOKX(t)
		o.cancel = func(_ *s30ctConn, id, _ string) []string {
			return []string{`{"id":"` + id + `","op":"cancel-order","code":"0","msg":"","data":[],"inTime":"1","outTime":"2"}`}
		}
		s := o.start(t, newS30ctExecs(), nil)
		assert.ErrorIs(t, cancelOf(s, func(cid string) *schema.OrderRequest { return s30ctOKXOrder(t, s, cid) }), session.ErrBadAnswer)
	})
	t.Run("Bybit", func(t *testing.T) {
		b := newS30ctBybit(t)
		b.cancelF = func(_ *s30ctConn, rid, _ string) []string {
			return []string{fmt.Sprintf(`{"reqId":%q,"retCode":0,"retMsg":"OK","op":"order.cancel","data":{},"header":{},"connId":"c1"}`, rid)}
		}
		s := b.start(t, newS30ctExecs(), nil)
		assert.ErrorIs(t, cancelOf(s, func(cid string) *schema.OrderRequest { return s30ctBybitOrder(t, s, cid) }), session.ErrBadAnswer)
	})
	t.Run("Kraken", func(t *testing.T) {
		k := newS30ctKraken(t)
		k.cancelF = func(_ *s30ctConn, reqID any) []string {
			return []string{fmt.Sprintf(`{"method":"cancel_order","req_id":%v,"result":{},"success":true,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`, reqID)}
		}
		s := k.start(t, newS30ctExecs())
		assert.ErrorIs(t, cancelOf(s, func(cid string) *schema.OrderRequest { return s30ctKrakenOrder(t, s, cid) }), session.ErrBadAnswer)
	})
	t.Run("Binance", func(t *testing.T) {
		// the peer answers every request but order.place with "result":{}
		_, s := s38ctBinancePeer(t, func(string, map[string]any) string { return "" })
		assert.ErrorIs(t, cancelOf(s, func(cid string) *schema.OrderRequest { return s27ctOrder(t, s, cid) }), session.ErrBadAnswer)
	})
}
