package session_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// A reconciliation query given up unanswered (10 s, DefaultRESTTimeout)
// whose answer comes late, when no other query is in flight, is the
// query's: never handed to the parser, where it passed for the answer to
// an order request (an EventOrderAck with the query's request id, and an
// order.status answer could reach the order's follow-up). Before the fix
// the reader's fast path gave every frame to the parser while no query was
// in flight.
func TestS29LateQueryAnswerNotAnOrderAnswer(t *testing.T) {
	var mu sync.Mutex
	var queryIDs []uint64
	var live atomic.Pointer[websocket.Conn]
	var acks sync.Map // request id -> true
	s, clk, _ := startRvAPIAcks(t, func(c *websocket.Conn, msg []byte) string {
		live.Store(c)
		switch m := string(msg); {
		case strings.Contains(m, "userDataStream.subscribe"):
			return fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, requestID(t, msg))
		case strings.Contains(m, `"openOrders.status"`):
			mu.Lock()
			queryIDs = append(queryIDs, requestID(t, msg)) // never answered in time
			mu.Unlock()
		case strings.Contains(m, `"order.place"`):
			return fmt.Sprintf(`{"id":%d,"status":400,"error":{"code":-2010,"msg":"Account has insufficient balance for requested action."}}`, requestID(t, msg))
		}
		return ""
	}, func(ev *schema.CanonicalEvent) {
		if ev.Control.RequestID != 0 {
			acks.Store(ev.Control.RequestID, true)
		}
	})
	clk.fireUntil(t, session.DefaultRESTTimeout, func() bool { return s.Stats().Order.ReconcileErrors >= 5 },
		"every try of the open-orders query given up")
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	mu.Lock()
	late := append([]uint64(nil), queryIDs...)
	mu.Unlock()
	require.NotEmpty(t, late)
	for _, id := range late { // the venue answers at last
		require.NoError(t, live.Load().Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"id":%d,"status":200,"result":[]}`, id))))
	}
	// An order after them: its answer, read after theirs on the same
	// reader, says they have been read.
	req := limitOrder(s, t, "lq-1", "BUY", "100", "1")
	defer s.Pools().Orders.Put(req)
	_, err := s.Place(ctx, req)
	require.Error(t, err)
	require.Eventually(t, func() bool {
		n := 0
		acks.Range(func(any, any) bool { n++; return true })
		return n >= 1
	}, generous, pollEvery, "the order's answer published")
	for _, id := range late {
		_, ok := acks.Load(id)
		require.False(t, ok, "a late query answer (request %d) published as an order answer", id)
	}
}
