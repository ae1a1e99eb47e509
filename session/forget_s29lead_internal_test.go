package session

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A request refused before a byte was written (ErrConnChanged,
// ErrNotConnected, ErrNotSent) can have no answer: ending its wait must not
// count it among the requests an id-less refusal may answer (late), or
// the next order on that connection is never the sole one and a venue's
// id-less refusal of it waits OrderAnswerTimeout (30 s) for nothing. A
// request written and given up (ctx, ErrNoAnswer, a write that failed part
// way) still counts.
func TestS29UnsentRequestLeavesNoLateAnswer(t *testing.T) {
	req := &schema.OrderRequest{Symbol: "BTC-USDT", Action: schema.ActionPlace}
	t.Run("venueOrders", func(t *testing.T) {
		v := &venueOrders{pending: map[uint64]pendingOrder{}, late: map[uint64]pendingOrder{}, conn: 7} // (s31sess: await registers on the lane's connection only)
		v.await(1, 7, req)
		v.forget(1, false)
		v.await(2, 7, req)
		id, ok := v.sole(7)
		require.True(t, ok, "the unsent request 1 counted against the sole one")
		require.Equal(t, uint64(2), id)
		v.forget(2, true)
		v.await(3, 7, req)
		_, ok = v.sole(7)
		require.False(t, ok, "a written request given up may still be answered without an id")
	})
	t.Run("orders", func(t *testing.T) {
		o := &orders{pending: map[uint64]pendingOrder{}, readyConn: 7}
		o.await(1, 7, req)
		o.forget(1, false)
		require.Empty(t, o.late)
		o.await(2, 7, req)
		o.forget(2, true)
		require.Contains(t, o.late, uint64(2))
	})
}
