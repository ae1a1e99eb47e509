package session_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// TestS25CoinbaseUserSequenceGap: Coinbase numbers every message of a
// connection (sequence_num, Advanced Trade "WebSocket Overview →
// Sequence Numbers": a gap means a message was missed). A user-channel
// message lost on a connection that stays up is an order update missed:
// here an order's cancel, of which no later report will tell. The jump
// in sequence_num makes the session reconcile its open orders, as after
// a reconnect: the cancel reaches the host, Reconciled.
func TestS25CoinbaseUserSequenceGap(t *testing.T) {
	v := newCBSim(t)
	h := startCBRecon(t, v, nil)
	o := h.open("g1", "0.05")
	v.mu.Lock()
	v.lose = true
	v.mu.Unlock()
	v.end(o, "CANCELLED") // lost on the way
	v.mu.Lock()
	v.lose = false
	v.mu.Unlock()
	v.open("g2", "0.01") // its frame's sequence_num jumps
	got := map[string]*schema.ExecReport{}
	for range 2 {
		r := h.next()
		got[r.ClientOrderID.String()] = r
	}
	if assert.Contains(t, got, "g1", "the lost cancel, reconciled") {
		r := got["g1"]
		assert.Equal(t, []any{true, schema.ExecCanceled, schema.StatusCanceled}, []any{r.Reconciled, r.ExecType, r.Status})
	}
	if assert.Contains(t, got, "g2") {
		assert.Equal(t, schema.ExecNew, got["g2"].ExecType)
	}
}
