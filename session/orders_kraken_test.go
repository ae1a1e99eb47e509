package session_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// krakenExec is an executions update of the fake Kraken for order o (its
// answer's order_id), of exec type typ.
func krakenExec(o orderSeen, typ string, seq int) string {
	return `{"channel":"executions","type":"update","data":[{"order_id":"ORD-` + o.id + `","cl_ord_id":"bot1","symbol":"BTC/USDT","order_qty":0.001,"cum_cost":0.0,"cum_qty":0.0,` +
		`"time_in_force":"GTC","exec_type":"` + typ + `","side":"buy","order_type":"limit","limit_price_type":"static","limit_price":25000.1,"order_status":"` + typ + `",` +
		`"timestamp":"2023-09-22T10:33:05.709950Z"}],"sequence":` + strconv.Itoa(seq) + `}`
}

// TestKrakenOrderExecutions: on Kraken, the order's answer and its
// executions come on the one authenticated connection: Place returns the
// add_order answer (the request carried the token that connection
// subscribed with), the executions update reaches OnExecReport; Cancel
// names the Kraken order id and its executions update follows. The
// answers are not taken for executions, nor the executions for answers.
func TestKrakenOrderExecutions(t *testing.T) {
	c := placeCases()[2]
	require.Equal(t, schema.VenueKraken, c.venue)
	f := newFakePrivate(t, c.venue, nil)
	execs := make(chan *schema.ExecReport, 16)
	s := startOrders(t, c, f, func(cfg *session.Config) { cfg.OnExecReport = func(r *schema.ExecReport) { execs <- r } })
	t.Cleanup(func() { drainExecs(s, execs) })
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	f.setScript(func(o orderSeen) ([]string, bool) {
		if o.op == "cancel_order" { // the answer names the canceled order
			order := o
			order.id = o.arg["order_id"].([]any)[0].(string)[len("ORD-"):]
			return []string{`{"method":"cancel_order","req_id":` + o.id + `,"result":{"order_id":"ORD-` + order.id + `"},"success":true,"time_in":"2023-09-21T14:36:57.428972Z","time_out":"2023-09-21T14:36:57.437952Z"}`,
				krakenExec(order, "canceled", 2)}, false
		}
		return []string{acceptOrder(c.venue, o), krakenExec(o, "pending_new", 1)}, false
	})

	ack, err := place(t, s, ctx, "bot1")
	require.NoError(t, err)
	id := strconv.FormatUint(ack.RequestID, 10)
	assert.Equal(t, "ORD-"+id, ack.VenueOrderID.String())
	assert.Equal(t, "bot1", ack.ClientOrderID.String())
	assert.Equal(t, int64(1695305707205301000), ack.TransactTime, "the answer's time_out")
	seen := f.ordersSeen()
	require.Len(t, seen, 1)
	assert.True(t, seen[0].loggedIn, "with the token this connection subscribed with")
	r := recvExec(t, execs)
	assert.Equal(t, "ORD-"+id, r.VenueOrderID.String())
	assert.Equal(t, "bot1", r.ClientOrderID.String())
	assert.Equal(t, "BTC-USDT", r.Symbol)
	s.Pools().Execs.Put(r)

	req, err := s.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Symbol, req.VenueOrderID = "BTC-USDT", ack.VenueOrderID
	cack, err := s.Cancel(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	seen = f.ordersSeen()
	require.Len(t, seen, 2)
	assert.Equal(t, "cancel_order", seen[1].op)
	assert.Equal(t, map[string]any{"order_id": []any{"ORD-" + id}}, seen[1].arg)
	assert.Equal(t, "ORD-"+id, cack.VenueOrderID.String())
	r = recvExec(t, execs)
	assert.Equal(t, "ORD-"+id, r.VenueOrderID.String())
	assert.Equal(t, schema.StatusCanceled, r.Status)
	s.Pools().Execs.Put(r)

	st := s.Stats()
	assert.Equal(t, uint64(2), st.Order.Answered)
	assert.Zero(t, st.Order.Pending)
	assert.Zero(t, st.Orders.Parser.Unknown, "no answer left to the parser")
}
