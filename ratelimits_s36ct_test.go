package meltica_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// OKX's per-instrument order rate (session doc "Orders by venue": "OKX's
// 60 order requests per 2 seconds per instrument and operation (…
// 50011 over it) are counted before sending: a request over the rate
// waits, on Config.Client.Clock, until the span allows it"; OKX v5
// "WebSocket Place order": "Rate Limit: 60 requests per 2 seconds", "Rate
// limit rule: User ID + Instrument ID"; "WebSocket Cancel order" has its
// own 60 per 2 s). Sixty places on BTC-USDT go out at once; the 61st
// waits, never reaching the venue, while a cancel on the same instrument
// (another operation, another count) is not held behind it; once 2 s
// pass on the session's clock the 61st goes out and is acked. Every
// accepted order's report arrives once, none is lost or doubled.
func TestS36ctOKXSixtyFirstPlaceWaitsItsCancelDoesNot(t *testing.T) {
	o := newS30ctOKX(t)
	clk := newS27ctClock()
	o.clock = clk
	execs := newS30ctExecs()
	o.mu.Lock()
	o.order = func(c *s30ctConn, id, cid string) []string {
		vid := "9" + strings.TrimPrefix(cid, "s36r")
		return []string{s30ctOKXAck(id, "order", cid, vid), s30ctOKXOrderPush(cid, vid, "live", "0", "0", "", "")}
	}
	o.mu.Unlock()
	s := o.start(t, execs, nil)
	ctx := s31ctConnected(t, s)

	places := func() int {
		return len(o.find("/ws/v5/private", func(m string) bool { return strings.Contains(m, `"op":"order"`) }))
	}
	for i := range 60 {
		req := s30ctOKXOrder(t, s, fmt.Sprintf("s36r%d", 100+i))
		_, err := s.Place(ctx, req)
		s.Pools().Orders.Put(req)
		require.NoError(t, err, "place %d of 60: inside OKX's 60 per 2 s", i+1)
	}

	done := make(chan error, 1)
	go func() {
		req := s30ctOKXOrder(t, s, "s36r160")
		_, err := s.Place(ctx, req)
		s.Pools().Orders.Put(req)
		done <- err
	}()
	// The 61st's wait is armed on the clock (at most the 2 s span ahead).
	require.Eventually(t, func() bool {
		for _, d := range clk.Pending() {
			if d > 0 && d <= 2*time.Second {
				return true
			}
		}
		return false
	}, s27ctWait, time.Millisecond, "the 61st place waits on the clock: pending %v", clk.Pending)

	req, err := s.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Action, req.Venue, req.Symbol, req.OrigClientOrderID = schema.ActionCancel, schema.VenueOKX, "BTC-USDT", schema.MustID("s36r100")
	_, err = s.Cancel(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err, "a cancel is not held behind the places' count")
	select {
	case err := <-done:
		t.Fatalf("the 61st place returned (%v) before 2 s passed on the session's clock", err)
	default:
	}
	assert.Equal(t, 60, places(), "the 61st place never reached the venue inside the span")

	// Let the span pass: move the clock by each timer due within 2 s
	// until the place returns.
	moved := time.Duration(0)
	for {
		var next time.Duration
		var placed bool
		require.Eventually(t, func() bool {
			select {
			case err := <-done:
				require.NoError(t, err, "the 61st place, once the span allows it")
				placed = true
				return true
			default:
			}
			for _, d := range clk.Pending() {
				if d > 0 && moved+d <= 2*time.Second+time.Millisecond {
					next = d
					return true
				}
			}
			return false
		}, s27ctWait, time.Millisecond, "the 61st place returns within 2 s of the clock (moved %v)", moved)
		if placed {
			break
		}
		clk.Advance(next)
		moved += next
	}
	assert.Equal(t, 61, places())
	for i := range 61 {
		cid := fmt.Sprintf("s36r%d", 100+i)
		execs.wait(t, cid, "", func(x []schema.Execution) bool { return len(x) >= 1 }, cid)
	}
	for i := range 61 {
		cid := fmt.Sprintf("s36r%d", 100+i)
		assert.Len(t, execs.of(cid, ""), 1, "%s: its one report, once", cid)
	}
}

// Every rate-limit refusal the venues document is the typed
// ErrRateLimited (session errors.go: "OKX 50011, 50061; Bybit 10006,
// 10018, 170005, 170222; Kraken "EOrder:Rate limit exceeded", "EAPI:Rate
// limit exceeded", "EGeneral:Too many requests", "EService:Throttled…",
// "EGeneral:Temporary lockout"), in each venue's answer shape (OKX: the
// order's sCode under code 1, and the request-level code with empty
// data; Bybit retCode; Kraken's error string, "EService:Throttled:
// [UNIX timestamp]" with its timestamp). The refused order has no
// report; the next order on the same session is not stalled: it returns
// (acked, or, where the session holds places until RetryAfter, ErrNotSent
// wrapping the venue's refusal), and an accepted one's report comes
// once.
func TestS36ctEveryRateLimitRefusalTypedNothingStalled(t *testing.T) {
	const inOut = `"inTime":"1695190491421339","outTime":"1695190491423240"`
	okxRefusals := map[string]string{
		"s36o1": `{"id":%q,"op":"order","code":"1","msg":"","data":[{"clOrdId":%q,"ordId":"","tag":"","ts":"1695190491421","sCode":"50061","sMsg":"Sub-account rate limit exceeded."}],` + inOut + `}`,
		"s36o2": `{"id":%q,"op":"order","code":"50011","msg":"Rate limit reached. Please refer to API documentation and throttle requests accordingly.","data":[],` + inOut + `}%.0s`,
	}
	okxCodes := map[string]int64{"s36o1": 50061, "s36o2": 50011}
	t.Run("OKX", func(t *testing.T) {
		o := newS30ctOKX(t)
		execs := newS30ctExecs()
		o.mu.Lock()
		o.order = func(c *s30ctConn, id, cid string) []string {
			if f, ok := okxRefusals[cid]; ok {
				return []string{fmt.Sprintf(f, id, cid)}
			}
			vid := "8" + strings.TrimPrefix(cid, "s36ok")
			return []string{s30ctOKXAck(id, "order", cid, vid), s30ctOKXOrderPush(cid, vid, "live", "0", "0", "", "")}
		}
		o.mu.Unlock()
		s := o.start(t, execs, nil)
		ctx := s31ctConnected(t, s)
		for i, cid := range []string{"s36o1", "s36o2"} {
			req := s30ctOKXOrder(t, s, cid)
			_, err := s.Place(ctx, req)
			s.Pools().Orders.Put(req)
			require.Error(t, err, cid)
			assert.ErrorIs(t, err, session.ErrRateLimited, cid)
			var ve *session.VenueError
			require.ErrorAs(t, err, &ve, cid)
			assert.Equal(t, okxCodes[cid], ve.Code, cid)
			s36ctNextOrder(t, s, execs, s30ctOKXOrder(t, s, fmt.Sprintf("s36ok%d", i+1)))
			assert.Empty(t, execs.of(cid, ""), "%s refused: no report", cid)
		}
	})

	bybit := []struct {
		code int
		msg  string
	}{{10018, "Exceeded the IP Rate Limit."}, {170005, "Too many new orders; current limit is 20 orders per second."}, {170222, "Too many requests in this time frame."}}
	t.Run("Bybit", func(t *testing.T) {
		b := newS30ctBybit(t)
		execs := newS30ctExecs()
		s := b.start(t, execs, nil)
		ctx := s31ctConnected(t, s)
		b.mu.Lock()
		b.create = func(c *s30ctConn, rid, link string) []string {
			for _, r := range bybit {
				if link == fmt.Sprintf("s36b%d", r.code) {
					return []string{s30ctBybitAnswer(rid, "order.create", r.code, r.msg, "", link)}
				}
			}
			vid := "7" + strings.TrimPrefix(link, "s36bok")
			priv := b.conn("/v5/private", b.opened("/v5/private"))
			go priv.send(s30ctBybitOrderPush(link, vid, "New", "0", "0.5"))
			return []string{s30ctBybitAnswer(rid, "order.create", 0, "OK", vid, link)}
		}
		b.mu.Unlock()
		for i, r := range bybit {
			cid := fmt.Sprintf("s36b%d", r.code)
			req := s30ctBybitOrder(t, s, cid)
			_, err := s.Place(ctx, req)
			s.Pools().Orders.Put(req)
			require.Error(t, err, cid)
			assert.ErrorIs(t, err, session.ErrRateLimited, "Bybit %d %q", r.code, r.msg)
			var ve *session.VenueError
			require.ErrorAs(t, err, &ve, cid)
			assert.Equal(t, int64(r.code), ve.Code)
			s36ctNextOrder(t, s, execs, s30ctBybitOrder(t, s, fmt.Sprintf("s36bok%d", i+1)))
			assert.Empty(t, execs.of(cid, ""), "%s refused: no report", cid)
		}
	})

	kraken := []string{"EOrder:Rate limit exceeded", "EAPI:Rate limit exceeded", "EGeneral:Too many requests", "EService:Throttled: 1695190491", "EGeneral:Temporary lockout"}
	t.Run("Kraken", func(t *testing.T) {
		k := newS30ctKraken(t)
		execs := newS30ctExecs()
		s := k.start(t, execs)
		ctx := s31ctConnected(t, s)
		k.mu.Lock()
		k.add = func(c *s30ctConn, reqID any, cid string) []string {
			if n, ok := strings.CutPrefix(cid, "s36kx"); ok {
				var i int
				_, _ = fmt.Sscan(n, &i)
				return []string{fmt.Sprintf(`{"error":%q,"method":"add_order","req_id":%v,"success":false,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`, kraken[i], reqID)}
			}
			oid := "OK4GJX-KSTLS-7DZZO" + strings.TrimPrefix(cid, "s36kok")
			return []string{s30ctKrakenAdded(reqID, cid, oid),
				s30ctKrakenExec(k.next(c), fmt.Sprintf(`{"order_id":%q,"cl_ord_id":%q,"symbol":"BTC/USD","order_qty":0.5,"cum_cost":0,"time_in_force":"GTC","exec_type":"new","side":"buy","order_type":"limit","order_userref":0,"limit_price_type":"static","limit_price":1000.1,"stop_price":0,"order_status":"new","fee_usd_equiv":0,"fee_ccy_pref":"fciq","timestamp":"2023-09-22T10:33:05.709950Z","exec_id":"E-%s"}`, oid, cid, cid))}
		}
		k.mu.Unlock()
		for i, msg := range kraken {
			cid := fmt.Sprintf("s36kx%d", i)
			req := s30ctKrakenOrder(t, s, cid)
			_, err := s.Place(ctx, req)
			s.Pools().Orders.Put(req)
			require.Error(t, err, cid)
			assert.ErrorIs(t, err, session.ErrRateLimited, "Kraken %q", msg)
			var ve *session.VenueError
			require.ErrorAs(t, err, &ve, cid)
			assert.Equal(t, msg, ve.Msg)
			s36ctNextOrder(t, s, execs, s30ctKrakenOrder(t, s, fmt.Sprintf("s36kok%d", i+1)))
			assert.Empty(t, execs.of(cid, ""), "%s refused: no report", cid)
		}
	})
}

// s36ctNextOrder places req (and Puts it) after a rate-limit refusal: the
// call returns — acked, with the order's one report then delivered
// once, or ErrNotSent wrapping ErrRateLimited (a session that holds
// places until the refusal's RetryAfter) — and is never left waiting.
func s36ctNextOrder(t *testing.T, s *session.Session, execs *s30ctExecs, req *schema.OrderRequest) {
	t.Helper()
	cid := req.ClientOrderID.String()
	ctx := s31ctConnected(t, s)
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	if err != nil {
		require.True(t, errors.Is(err, session.ErrNotSent) && errors.Is(err, session.ErrRateLimited),
			"the order after a rate-limit refusal: acked, or held as ErrNotSent wrapping the refusal; got %v", err)
		return
	}
	execs.wait(t, cid, "", func(x []schema.Execution) bool { return len(x) >= 1 }, cid)
	// One more accepted order's report behind it would show a repeat;
	// the stream's order is the venue's, so wait on the count alone.
	assert.Len(t, execs.of(cid, ""), 1, "%s: its one report", cid)
}

// Binance's unfilled order count on the simulated venue (venuesim
// Options.EnforceRateLimits: ORDERS 50 per 10 s, "429 … -1015 past the
// orders, with retryAfter"; Binance spot "Error codes" -1015 "Too many
// new orders", WebSocket API "Rate limits": "error.data.retryAfter").
// The session's contract (session doc "Orders"): the refusal is
// ErrRateLimited with the venue's code and RetryAfter; "Place and Cancel
// send nothing before that time and return ErrNotSent wrapping that
// *VenueError (over the unfilled order count, -1015, Place only: a cancel
// lowers it)". So: the next place before RetryAfter is ErrNotSent and
// never reaches the venue; a cancel goes and is answered; a fill of an
// accepted order still arrives; every accepted order's NEW report comes
// once, the refused orders have none.
func TestS36ctBinanceUnfilledOrderCountHoldsPlacesNotCancels(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, APIKey: "k", APISecret: "s", EnforceRateLimits: true, PingInterval: -1})
	defer v.Close()
	execs := newS30ctExecs()
	s, err := session.Start(context.Background(), session.Config{
		Endpoints:    session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
		Symbols:      []string{"BTC-USDT"},
		Channels:     []string{"trade"},
		Credentials:  normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
		OnExecReport: execs.on,
	})
	require.NoError(t, err)
	execs.returnTo(s.Pools())
	defer func() { assert.NoError(t, s.Close(context.Background())) }()
	ctx := s31ctConnected(t, s)

	var accepted []string
	var refusal error
	for i := 0; i < 500 && refusal == nil; i++ {
		cid := fmt.Sprintf("s36u%d", i)
		req := s27ctOrder(t, s, cid)
		_, err := s.Place(ctx, req)
		s.Pools().Orders.Put(req)
		if err != nil {
			refusal = err
			break
		}
		accepted = append(accepted, cid)
	}
	require.Error(t, refusal, "the venue refuses past 50 orders in its 10 s interval")
	assert.ErrorIs(t, refusal, session.ErrRateLimited)
	var ve *session.VenueError
	require.ErrorAs(t, refusal, &ve)
	assert.EqualValues(t, -1015, ve.Code, "%v", refusal)
	require.False(t, ve.RetryAfter.IsZero(), "the venue's retryAfter carried: %v", refusal)
	refusedAt := v.Stats().Rejected

	req := s27ctOrder(t, s, "s36uheld")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	_, sent := v.OrderID("s36uheld")
	if err != nil {
		assert.ErrorIs(t, err, session.ErrNotSent, "a place before retryAfter is not sent")
		assert.ErrorAs(t, err, &ve)
		assert.False(t, sent, "the held place never reached the venue")
		assert.Equal(t, refusedAt, v.Stats().Rejected, "nothing sent to be refused again")
	} else {
		require.False(t, time.Now().Before(ve.RetryAfter), "a place was sent before the venue's retryAfter %v", ve.RetryAfter)
		accepted = append(accepted, "s36uheld")
	}

	// A cancel goes during the hold: it lowers the count.
	first := accepted[0]
	req, err = s.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Action, req.Venue, req.Symbol, req.OrigClientOrderID = schema.ActionCancel, schema.VenueBinance, "BTC-USDT", schema.MustID(first)
	_, err = s.Cancel(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err, "a cancel is not held by -1015")
	second := accepted[1]
	id, ok := v.OrderID(second)
	require.True(t, ok)
	require.NoError(t, v.FillOrder(id, "0.5"))

	// A cancel's report names the cancel's own client order id (Binance
	// "User Data Streams": c, the original in C): by venue order id.
	firstID, ok := v.OrderID(first)
	require.True(t, ok)
	vid := func(id uint64) string { return fmt.Sprint(id) }
	execs.wait(t, "", vid(firstID), func(x []schema.Execution) bool {
		return len(x) > 0 && x[len(x)-1].Status == schema.StatusCanceled
	}, first+" canceled")
	execs.wait(t, "", vid(id), func(x []schema.Execution) bool {
		return len(x) > 0 && x[len(x)-1].Status == schema.StatusFilled
	}, second+" filled")
	for _, cid := range accepted {
		x := execs.wait(t, cid, "", func(x []schema.Execution) bool { return len(x) >= 1 }, cid)
		assert.Equal(t, schema.StatusNew, x[0].Status, "%s: NEW first", cid)
	}
	assert.Len(t, execs.of("", vid(firstID)), 2, "%s: NEW, CANCELED, once each", first)
	assert.Len(t, execs.of("", vid(id)), 2, "%s: NEW, FILLED, once each", second)
	for _, cid := range accepted[2:] {
		assert.Len(t, execs.of(cid, ""), 1, "%s: NEW once", cid)
	}
	assert.Empty(t, execs.of(fmt.Sprintf("s36u%d", len(accepted)), ""), "the refused order has no report")
}
