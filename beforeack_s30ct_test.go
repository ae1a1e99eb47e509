package meltica_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// The order channel can run ahead of the order's answer on the same
// connection (OKX pushes "orders" as the matching engine acts; the place
// answer is the gateway's). An order live and filled before its answer
// has ended and its fill is delivered: the answer (an Ack) must not
// follow it again ("a late report does not follow one again"), and a
// reconnect's pass delivers nothing of it twice.
func TestS30ctOKXFillBeforeAnswer(t *testing.T) {
	o := newS30ctOKX(t)
	execs := newS30ctExecs()
	s := o.start(t, execs, nil)
	ctx := s31ctConnected(t, s)
	o.mu.Lock()
	o.order = func(c *s30ctConn, id, cid string) []string {
		return []string{
			s30ctOKXOrderPush(cid, "9301", "live", "0", "0", "", ""),
			s30ctOKXOrderPush(cid, "9301", "filled", "0.5", "0.5", "41", "1000.1"),
			s30ctOKXAck(id, "order", cid, "9301"),
		}
	}
	o.restOrder["s30okxLate"] = s30ctOKXRestOrder("s30okxLate", "9301", "filled", "0.5")
	o.restFills["9301"] = s30ctOKXRestFill("s30okxLate", "9301", "41", "8041", "0.5")
	o.mu.Unlock()
	req := s30ctOKXOrder(t, s, "s30okxLate")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	execs.wait(t, "s30okxLate", "", func(x []schema.Execution) bool {
		return len(x) == 2 && x[1].Status == schema.StatusFilled
	}, "live, filled")
	assert.Zero(t, s.Stats().Order.Tracked, "an ended order with its fill delivered is not followed again by its late answer")
	was := s.Stats().Order.Reconciliations
	o.conn("/ws/v5/private", o.opened("/ws/v5/private")).cut()
	require.Eventually(t, func() bool { return s.Stats().Order.Reconciliations > was }, s27ctWait, time.Millisecond)
	require.NoError(t, s.WaitConnected(ctx))
	got := execs.of("s30okxLate", "")
	assert.Len(t, got, 2, "%+v", got)
	for _, x := range got {
		assert.False(t, x.Reconciled, "%+v", x)
	}
}

// Kraken's executions channel sends an order's pending_new and new (and
// its fills) around the add_order answer. Fills of an order that ended
// before its answer: each once, and the order not followed again.
func TestS30ctKrakenFillBeforeAnswer(t *testing.T) {
	k := newS30ctKraken(t)
	execs := newS30ctExecs()
	s := k.start(t, execs)
	ctx := s31ctConnected(t, s)
	const oid = "OLATE1-AAAAA-BBBBBB"
	k.mu.Lock()
	k.add = func(c *s30ctConn, reqID any, cid string) []string {
		return []string{
			s30ctKrakenExec(k.next(c), fmt.Sprintf(`{"order_id":%q,"cl_ord_id":%q,"symbol":"BTC/USD","order_qty":0.5,"cum_cost":0,"time_in_force":"GTC","exec_type":"pending_new","side":"buy","order_type":"limit","order_userref":0,"limit_price_type":"static","limit_price":1000.1,"stop_price":0,"order_status":"pending_new","fee_usd_equiv":0,"fee_ccy_pref":"fciq","timestamp":"2023-09-22T10:33:05.709950Z","exec_id":"TLATE0-HT5LX-J3BZ40"}`, oid, cid)),
			s30ctKrakenExec(k.next(c), fmt.Sprintf(`{"order_id":%q,"cl_ord_id":%q,"exec_type":"new","order_status":"new","timestamp":"2023-09-22T10:33:05.709960Z","exec_id":"TLATE1-HT5LX-J3BZ41"}`, oid, cid)),
			s30ctKrakenExec(k.next(c), fmt.Sprintf(`{"order_id":%q,"cl_ord_id":%q,"order_userref":0,"exec_id":"TLATE2-HT5LX-J3BZ42","exec_type":"trade","trade_id":301,"symbol":"BTC/USD","side":"buy","last_qty":0.5,"last_price":1000.1,"liquidity_ind":"m","cost":500.05,"order_type":"limit","timestamp":"2023-09-22T10:33:06.709993Z","order_status":"filled","cum_qty":0.5,"cum_cost":500.05,"avg_price":1000.1,"fee_usd_equiv":0.8,"fees":[{"asset":"USD","qty":0.8}]}`, oid, cid)),
			s30ctKrakenAdded(reqID, cid, oid),
		}
	}
	k.mu.Unlock()
	req := s30ctKrakenOrder(t, s, "s30krLate")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	got := execs.wait(t, "", oid, func(x []schema.Execution) bool {
		return len(x) > 0 && x[len(x)-1].Status == schema.StatusFilled
	}, "the order's life before its answer")
	assert.Len(t, s30ctFills(got), 1, "%+v", got)
	assert.Zero(t, s.Stats().Order.Tracked, "not followed again by its late answer")
}
