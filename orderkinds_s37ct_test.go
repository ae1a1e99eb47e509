package meltica_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// OKX's answers to a cancel of an order that is no longer open and to a
// place with a client order id in use (OKX v5 "Error Code": 51400
// "Order cancellation failed as the order has been filled, canceled or
// does not exist", 51401 "… has been canceled", 51402 "… has been
// completed"; 51016 "Duplicated clOrdId"), in the shape of the
// WebSocket "Place order" / "Cancel order" answers (code "1", the
// order's sCode and sMsg): each cancel refusal is ErrOrderNotOpen with
// the venue's code and message (session errors.go lists 51400, 51401,
// 51402), the duplicate a refusal of no kind (the request itself: sent
// again unchanged, it is refused again).
func TestS37ctOKXCancelAndDuplicateAnswers(t *testing.T) {
	o := newS30ctOKX(t)
	execs := newS30ctExecs()
	s := o.start(t, execs, nil)
	ctx := s31ctConnected(t, s)
	const inOut = `"inTime":"1695190491421339","outTime":"1695190491423240"`
	cancels := map[string]struct {
		code int64
		msg  string
	}{
		"s37g0": {51400, "Order cancellation failed as the order has been filled, canceled or does not exist."},
		"s37g1": {51401, "Order cancellation failed as the order has been canceled."},
		"s37g2": {51402, "Order cancellation failed as the order has been completed."},
	}
	o.mu.Lock()
	o.order = func(c *s30ctConn, id, cid string) []string {
		return []string{fmt.Sprintf(`{"id":%q,"op":"order","code":"1","msg":"","data":[{"clOrdId":%q,"ordId":"","tag":"","ts":"1695190491421","sCode":"51016","sMsg":"Duplicated clOrdId"}],%s}`, id, cid, inOut)}
	}
	o.cancel = func(c *s30ctConn, id, cid string) []string {
		a := cancels[cid]
		return []string{fmt.Sprintf(`{"id":%q,"op":"cancel-order","code":"1","msg":"","data":[{"clOrdId":%q,"ordId":"","ts":"1695190491421","sCode":"%d","sMsg":%q}],%s}`, id, cid, a.code, a.msg, inOut)}
	}
	o.mu.Unlock()

	req := s30ctOKXOrder(t, s, "s37dup")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	s30ctKind(t, err, nil, 51016, "Duplicated clOrdId")

	for _, cid := range []string{"s37g0", "s37g1", "s37g2"} {
		req, err := s.Pools().Orders.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		req.Venue, req.Symbol, req.OrigClientOrderID = schema.VenueOKX, "BTC-USDT", schema.MustID(cid)
		_, err = s.Cancel(ctx, req)
		s.Pools().Orders.Put(req)
		s30ctKind(t, err, session.ErrOrderNotOpen, cancels[cid].code, cancels[cid].msg)
	}
}

// Bybit's: order.cancel 110001 "Order does not exist" (Bybit v5 "Error
// Codes"; session errors.go lists it under ErrOrderNotOpen) and
// order.create 110072 "OrderLinkedID is duplicate", a refusal of no kind.
func TestS37ctBybitCancelAndDuplicateAnswers(t *testing.T) {
	b := newS30ctBybit(t)
	execs := newS30ctExecs()
	s := b.start(t, execs, nil)
	ctx := s31ctConnected(t, s)
	reset := time.Now().Add(time.Hour).UnixMilli()
	answer := func(rid, op string, code int, msg string) string {
		return fmt.Sprintf(`{"reqId":%q,"retCode":%d,"retMsg":%q,"op":%q,"data":{},"header":{"X-Bapi-Limit":"20","X-Bapi-Limit-Status":"19","X-Bapi-Limit-Reset-Timestamp":"%d","Traceid":"77ae6d3b9e6bb47c3e2c4b2f1d0b6f11","Timenow":"1711001595209"},"connId":"cnt5leec0hvan15eukcg-2t"}`, rid, code, msg, op, reset)
	}
	b.mu.Lock()
	b.create = func(c *s30ctConn, rid, link string) []string {
		return []string{answer(rid, "order.create", 110072, "OrderLinkedID is duplicate")}
	}
	b.cancelF = func(c *s30ctConn, rid, link string) []string {
		return []string{answer(rid, "order.cancel", 110001, "Order does not exist")}
	}
	b.mu.Unlock()

	req := s30ctBybitOrder(t, s, "s37dup")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	s30ctKind(t, err, nil, 110072, "OrderLinkedID is duplicate")

	req, err = s.Pools().Orders.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req.Venue, req.Symbol, req.OrigClientOrderID = schema.VenueBybit, "BTC-USDT", schema.MustID("s37gone")
	_, err = s.Cancel(ctx, req)
	s.Pools().Orders.Put(req)
	s30ctKind(t, err, session.ErrOrderNotOpen, 110001, "Order does not exist")
}

// An OKX order placed outside the session (the venue's website: a
// clOrdId and ordId the session never sent) is followed from its
// "orders" pushes (session doc "Execution reports across reconnects":
// "It follows every open order: its own (from Place's ack), those the
// stream shows (placed elsewhere on the account)"). Partly filled on the
// stream, the rest filled while the private connection is down: the
// reconnection's pass (GET /api/v5/trade/order, /trade/fills) delivers
// the missed fill once, Reconciled, with FILLED, and not the streamed
// one again; a cancel of it afterwards is ErrOrderNotOpen (51400) and
// adds no report.
func TestS37ctOKXOrderPlacedElsewhereFilledDuringLoss(t *testing.T) {
	o := newS30ctOKX(t)
	execs := newS30ctExecs()
	s := o.start(t, execs, nil)
	ctx := s31ctConnected(t, s)
	c := o.conn("/ws/v5/private", o.opened("/ws/v5/private"))
	c.send(s30ctOKXOrderPush("web7", "9700", "live", "0", "0", "", ""))
	c.send(s30ctOKXOrderPush("web7", "9700", "partially_filled", "0.2", "0.2", "71", "1000.1"))
	execs.wait(t, "web7", "", func(x []schema.Execution) bool { return len(x) == 2 }, "the foreign order's live and partial fill")

	o.mu.Lock()
	o.restOrder["web7"] = s30ctOKXRestOrder("web7", "9700", "filled", "0.5")
	o.restFills["9700"] = s30ctOKXRestFill("web7", "9700", "72", "8072", "0.3") + "," + s30ctOKXRestFill("web7", "9700", "71", "8071", "0.2")
	o.cancel = func(c *s30ctConn, id, cid string) []string {
		return []string{fmt.Sprintf(`{"id":%q,"op":"cancel-order","code":"1","msg":"","data":[{"clOrdId":%q,"ordId":"","ts":"1695190491421","sCode":"51400","sMsg":"Order cancellation failed as the order has been filled, canceled or does not exist."}],"inTime":"1695190491421339","outTime":"1695190491423240"}`, id, cid)}
	}
	o.mu.Unlock()
	was := s.Stats().Order.Reconciliations
	c.cut()
	require.Eventually(t, func() bool { return s.Stats().Order.Reconciliations > was }, s27ctWait, s37ctTick, "the reconnection's pass")
	execs.wait(t, "web7", "", func(x []schema.Execution) bool {
		return len(x) > 0 && x[len(x)-1].Status == schema.StatusFilled
	}, "the missed fill, reconciled")
	require.NoError(t, s.WaitConnected(ctx))

	req, err := s.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Venue, req.Symbol, req.OrigClientOrderID = schema.VenueOKX, "BTC-USDT", schema.MustID("web7")
	_, err = s.Cancel(ctx, req)
	s.Pools().Orders.Put(req)
	require.ErrorIs(t, err, session.ErrOrderNotOpen)

	got := execs.of("web7", "")
	trades := map[string]int{}
	for _, x := range got {
		if x.ExecType == schema.ExecTrade {
			trades[x.TradeID.String()]++
			if x.TradeID.String() == "72" {
				assert.True(t, x.Reconciled, "the missed fill: %+v", x)
				assert.True(t, x.LastFillQty.Equal(schema.MustParseDecimal("0.3")), "%s", x.LastFillQty)
			}
		}
		assert.NotEqual(t, schema.StatusCanceled, x.Status)
	}
	assert.Equal(t, map[string]int{"71": 1, "72": 1}, trades, "each fill once: %+v", got)
	assert.Equal(t, schema.StatusFilled, got[len(got)-1].Status)
}
