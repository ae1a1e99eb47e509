package meltica_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// s30ctKind checks a refusal: a *VenueError with code and msg, wrapped
// with kind (nil: no kind); it returns the refusal's RetryAfter.
func s30ctKind(t *testing.T, err error, kind error, code int64, msg string) time.Time {
	t.Helper()
	var ve *session.VenueError
	require.True(t, errors.As(err, &ve), "a *VenueError: %v", err)
	assert.Equal(t, code, ve.Code)
	assert.Equal(t, msg, ve.Msg)
	for _, k := range []error{session.ErrRateLimited, session.ErrMaybeSent, session.ErrOrderNotOpen} {
		assert.Equal(t, k == kind, errors.Is(err, k), "errors.Is(%v, %v)", err, k)
	}
	return ve.RetryAfter
}

// The kinds of refusal (session doc "Orders by venue" and errors.go:
// ErrRateLimited OKX 50011; ErrMaybeSent OKX 50004; ErrOrderNotOpen OKX
// 51400), in the answer shapes OKX documents: the order's sCode/sMsg
// under code 1, or code/msg with an empty data for a request-level
// refusal.
func TestS30ctOKXRefusalKinds(t *testing.T) {
	o := newS30ctOKX(t)
	execs := newS30ctExecs()
	s := o.start(t, execs, nil)
	ctx := s31ctConnected(t, s)
	const inOut = `"inTime":"1695190491421339","outTime":"1695190491423240"`
	o.mu.Lock()
	o.order = func(c *s30ctConn, id, cid string) []string {
		switch cid {
		case "s30kRate":
			return []string{fmt.Sprintf(`{"id":%q,"op":"order","code":"1","msg":"","data":[{"clOrdId":%q,"ordId":"","tag":"","ts":"1695190491421","sCode":"50011","sMsg":"Rate limit reached. Please refer to API documentation and throttle requests accordingly."}],%s}`, id, cid, inOut)}
		default:
			return []string{fmt.Sprintf(`{"id":%q,"op":"order","code":"50004","msg":"API endpoint request timeout (does not indicate success or failure of order, please check order status)","data":[],%s}`, id, inOut)}
		}
	}
	o.cancel = func(c *s30ctConn, id, cid string) []string {
		return []string{fmt.Sprintf(`{"id":%q,"op":"cancel-order","code":"1","msg":"","data":[{"clOrdId":%q,"ordId":"","ts":"1695190491421","sCode":"51400","sMsg":"Order cancellation failed as the order has been filled, canceled or does not exist."}],%s}`, id, cid, inOut)}
	}
	o.mu.Unlock()

	req := s30ctOKXOrder(t, s, "s30kRate")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	s30ctKind(t, err, session.ErrRateLimited, 50011, "Rate limit reached. Please refer to API documentation and throttle requests accordingly.")

	req = s30ctOKXOrder(t, s, "s30kMaybe")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	s30ctKind(t, err, session.ErrMaybeSent, 50004, "API endpoint request timeout (does not indicate success or failure of order, please check order status)")

	req, err = s.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Venue, req.Symbol, req.OrigClientOrderID = schema.VenueOKX, "BTC-USDT", schema.MustID("s30kGone")
	_, err = s.Cancel(ctx, req)
	s.Pools().Orders.Put(req)
	s30ctKind(t, err, session.ErrOrderNotOpen, 51400, "Order cancellation failed as the order has been filled, canceled or does not exist.")
}

// Bybit: order.create 10006 "Too many visits!" is ErrRateLimited with
// RetryAfter the header's X-Bapi-Limit-Reset-Timestamp (session doc: "its
// 10006 refusal carries the reset time (RetryAfter)"); 10016 is
// ErrMaybeSent; order.cancel 170213 "Order does not exist." is
// ErrOrderNotOpen.
func TestS30ctBybitRefusalKinds(t *testing.T) {
	b := newS30ctBybit(t)
	execs := newS30ctExecs()
	s := b.start(t, execs, nil)
	ctx := s31ctConnected(t, s)
	reset := time.Now().Add(time.Hour).UnixMilli()
	answer := func(rid, op string, code int, msg string) string {
		return fmt.Sprintf(`{"reqId":%q,"retCode":%d,"retMsg":%q,"op":%q,"data":{},"header":{"X-Bapi-Limit":"20","X-Bapi-Limit-Status":"0","X-Bapi-Limit-Reset-Timestamp":"%d","Traceid":"77ae6d3b9e6bb47c3e2c4b2f1d0b6f11","Timenow":"1711001595209"},"connId":"cnt5leec0hvan15eukcg-2t"}`, rid, code, msg, op, reset)
	}
	b.mu.Lock()
	b.create = func(c *s30ctConn, rid, link string) []string {
		if link == "s30kRate" {
			return []string{answer(rid, "order.create", 10006, "Too many visits!")}
		}
		return []string{answer(rid, "order.create", 10016, "Internal server error.")}
	}
	b.cancelF = func(c *s30ctConn, rid, link string) []string {
		return []string{answer(rid, "order.cancel", 170213, "Order does not exist.")}
	}
	b.mu.Unlock()

	req := s30ctBybitOrder(t, s, "s30kRate")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	retryAfter := s30ctKind(t, err, session.ErrRateLimited, 10006, "Too many visits!")
	assert.Equal(t, reset, retryAfter.UnixMilli(), "RetryAfter: the window's reset")

	req = s30ctBybitOrder(t, s, "s30kMaybe")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	s30ctKind(t, err, session.ErrMaybeSent, 10016, "Internal server error.")

	req, err = s.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Venue, req.Symbol, req.OrigClientOrderID = schema.VenueBybit, "BTC-USDT", schema.MustID("s30kGone")
	_, err = s.Cancel(ctx, req)
	s.Pools().Orders.Put(req)
	s30ctKind(t, err, session.ErrOrderNotOpen, 170213, "Order does not exist.")
}

// Kraken: cancel_order "EOrder:Unknown order" is ErrOrderNotOpen,
// add_order "EGeneral:Internal error" ErrMaybeSent, "EOrder:Rate limit
// exceeded" ErrRateLimited; Code 0 (Kraken's errors carry no number).
func TestS30ctKrakenRefusalKinds(t *testing.T) {
	k := newS30ctKraken(t)
	execs := newS30ctExecs()
	s := k.start(t, execs)
	ctx := s31ctConnected(t, s)
	refuse := func(method string, reqID any, msg string) string {
		return fmt.Sprintf(`{"error":%q,"method":%q,"req_id":%v,"success":false,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`, msg, method, reqID)
	}
	k.mu.Lock()
	k.add = func(c *s30ctConn, reqID any, cid string) []string {
		if cid == "s30kRate" {
			return []string{refuse("add_order", reqID, "EOrder:Rate limit exceeded")}
		}
		return []string{refuse("add_order", reqID, "EGeneral:Internal error")}
	}
	k.cancelF = func(c *s30ctConn, reqID any) []string {
		return []string{refuse("cancel_order", reqID, "EOrder:Unknown order")}
	}
	k.mu.Unlock()

	req := s30ctKrakenOrder(t, s, "s30kRate")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	s30ctKind(t, err, session.ErrRateLimited, 0, "EOrder:Rate limit exceeded")

	req = s30ctKrakenOrder(t, s, "s30kMaybe")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	s30ctKind(t, err, session.ErrMaybeSent, 0, "EGeneral:Internal error")

	req, err = s.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Venue, req.Symbol, req.VenueOrderID = schema.VenueKraken, "BTC-USD", schema.MustID("OGONE1-AAAAA-BBBBBB")
	_, err = s.Cancel(ctx, req)
	s.Pools().Orders.Put(req)
	s30ctKind(t, err, session.ErrOrderNotOpen, 0, "EOrder:Unknown order")
}
