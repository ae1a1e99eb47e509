package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Binance WS API: a refusal echoing no id ({"id":null,…}, WebSocket API
// "Response format") answers the request alone awaiting an answer on the
// connection that read it — counted per connection, as venueOrders.sole
// does. Before s38sess orders.sole counted every connection's requests:
// in a rotation's grace an id-less refusal on the new connection, whose
// one order alone awaited an answer there, answered none while the
// replaced connection still had a request in flight (the caller waited
// for its deadline); before the switch, the new connection's user-data
// subscription was not answered while an order awaited its answer on the
// old one.
func TestS38sessSoleCountsPerConnection(t *testing.T) {
	t.Run("grace", func(t *testing.T) {
		clk := &s36rRecClock{Clock: wsclient.SystemClock()}
		s := &Session{}
		s.cfg.Client.Clock = clk
		o := &orders{s: s, pending: map[uint64]pendingOrder{}, readyConn: 7}
		o.bq = &binanceQueries{o: o}
		_, ok := o.await(1, 7, &schema.OrderRequest{})
		require.True(t, ok)
		o.grace(7) // the switch: request 1 is answered on the replaced connection still
		o.mu.Lock()
		o.readyConn = 8
		o.mu.Unlock()
		_, ok = o.await(2, 8, &schema.OrderRequest{})
		require.True(t, ok)
		assert.Equal(t, uint64(2), o.sole(8), "the new connection's order alone awaits an answer there")
		assert.Equal(t, uint64(1), o.sole(7), "the replaced connection's request alone awaits an answer there")
		o.failPending(0, ErrClosed)
	})
	t.Run("prepare", func(t *testing.T) {
		s := &Session{}
		o := &orders{s: s, pending: map[uint64]pendingOrder{}, readyConn: 7}
		o.bq = &binanceQueries{o: o}
		_, ok := o.await(1, 7, &schema.OrderRequest{})
		require.True(t, ok)
		o.mu.Lock()
		o.udsID, o.udsConn, o.udsWait = 5, 8, 5 // the rotation's new connection's user-data subscription
		o.mu.Unlock()
		assert.Equal(t, uint64(5), o.sole(8), "the new connection's subscription alone awaits an answer there")
		assert.Equal(t, uint64(1), o.sole(7), "the order alone awaits an answer on the current connection")
		o.failPending(0, ErrClosed)
	})
}

// A reconciliation query given up on the connection (its answer, maybe
// an id-less refusal, may still come) counts on that connection even when
// no order went out on it yet: an id-less refusal there answers neither
// it nor the user-data subscription awaiting an answer beside it. (With
// the requests counted per connection, the query's late entry was counted
// on the connection of the last order — an earlier one.)
func TestS38sessSoleCountsAGivenUpQueryOnItsConnection(t *testing.T) {
	s := &Session{}
	o := &orders{s: s, pending: map[uint64]pendingOrder{}, readyConn: 1}
	o.bq = &binanceQueries{o: o}
	_, ok := o.await(1, 1, &schema.OrderRequest{})
	require.True(t, ok)
	o.failPending(1, ErrDisconnected) // connection 1 lost; 2 is up
	o.mu.Lock()
	o.upConn, o.readyConn = 2, 0
	o.udsID, o.udsConn, o.udsWait = 5, 2, 5
	o.mu.Unlock()
	o.bq.givenUp(queryIDBase+1, 2)
	assert.Zero(t, o.sole(2), "the query given up on connection 2 may be answered still")
}
