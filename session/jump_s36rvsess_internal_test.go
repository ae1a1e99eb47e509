package session

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestS36rvsessJumpEndedShortNoRoomEnds: an ended order's first short
// answer to a jump query, when the jump list is full (unsureCap) so no
// second query can be noted: the marker and the order's end at once, as
// before s36sess. Before s36rvsess the query withheld the end (expecting
// to ask again), the full list refused the retry, and the marker went out
// alone: the order, ended at the venue, stayed followed with its end
// never delivered until a loss's pass.
func TestS36rvsessJumpEndedShortNoRoomEnds(t *testing.T) {
	b := &endedLagBackend{laggingBackend{fakeBackend: fakeBackend{rules_: okxRefusals}, lag: 1}}
	r, key, clk := lagRig(t, b)
	r.mu.Lock()
	for i := range unsureCap { // the list full, key's entry aside
		r.jumps[orderKey{symbol: "FULL-" + strconv.Itoa(i), id: key.id}] = clk.now.Add(100 * jumpEvery)
	}
	r.mu.Unlock()
	r.askJump(context.Background(), 0, key)
	assert.Equal(t, uint64(1), r.gaps.Load(), "the marker")
	assert.NotContains(t, r.orders, key, "ended: its end delivered, forgotten")
}
