package session

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// The user-data subscription given up unanswered (answerTimeout) on a
// connection where no order went out yet may still be answered, and an
// id-less refusal ({"id":null,…}) may be its: it counts on that
// connection, so that the subscription signed again there is not alone
// awaiting an answer. Before s39sess a given-up request counted on the
// connection of the last order (pendConn) — an earlier one — and the
// refusal failed the new subscription with what may be the first one's
// code. (TestS38sessSoleCountsAGivenUpQueryOnItsConnection: a query's.)
func TestS39sessSoleCountsAGivenUpSubscriptionOnItsConnection(t *testing.T) {
	s := &Session{}
	o := &orders{s: s, pending: map[uint64]pendingOrder{}, readyConn: 1}
	o.bq = &binanceQueries{o: o}
	c, err := wsclient.New("ws://127.0.0.1:1", func(context.Context, *schema.WsFrame) error { return nil }, &wsclient.Options{})
	require.NoError(t, err)
	o.client = c // never run: its connection is none (the given-up one's retry is left to the new connection)
	_, ok := o.await(1, 1, &schema.OrderRequest{})
	require.True(t, ok)
	o.failPending(1, ErrDisconnected) // connection 1 lost; 2 is up
	o.mu.Lock()
	o.upConn, o.readyConn = 2, 0
	o.udsID, o.udsConn, o.udsWait = 5, 2, 5
	o.mu.Unlock()
	o.userDataUnanswered(2, 5)
	o.mu.Lock()
	o.udsID, o.udsWait = 6, 6 // signed again on connection 2
	o.mu.Unlock()
	assert.Zero(t, o.sole(2), "the subscription given up on connection 2 may be answered still")
}
