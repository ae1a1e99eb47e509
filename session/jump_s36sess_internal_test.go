package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// endedLagBackend is a laggingBackend whose order query says the order
// ended: 0.3 of 0.3 executed, Filled.
type endedLagBackend struct{ laggingBackend }

func (b *endedLagBackend) order(ctx context.Context, conn uint64, key orderKey, byClient bool) ([]normalize.QueryOrder, error) {
	st, err := b.laggingBackend.order(ctx, conn, key, byClient)
	st[0].Status, st[0].Qty = schema.StatusFilled, dec("0.3")
	return st, err
}

// TestS36JumpEndedFillsLagRetriedOnce: the stream said the order filled
// (0.3) with trade 2 (0.2) lost in transit; the jump query finds the order
// Filled and the venue's fills a moment behind (trade 1 alone), the common
// case right after a final report. It is asked once more jumpEvery later,
// with no gap marker and the order still followed; the second answer has
// the lost fill, delivered once, and no marker. Before s36sess the first
// short answer of an ended order gave the marker at once and forgot the
// order: the fill was never delivered.
func TestS36JumpEndedFillsLagRetriedOnce(t *testing.T) {
	b := &endedLagBackend{laggingBackend{fakeBackend: fakeBackend{rules_: okxRefusals}, lag: 1}}
	r, key, clk := lagRig(t, b)
	r.mu.Lock()
	r.orders[key].status = schema.StatusFilled // the stream's final report
	r.mu.Unlock()
	r.askJump(context.Background(), 0, key)
	assert.Zero(t, r.gaps.Load(), "no marker for the first short answer")
	assert.Zero(t, r.reconciled.Load())
	require.Contains(t, r.orders, key, "followed still")
	require.Contains(t, r.jumps, key, "asked again")
	assert.Equal(t, clk.now.Add(jumpEvery), r.jumps[key], "jumpEvery later")

	clk.now = clk.now.Add(jumpEvery)
	r.askJump(context.Background(), 0, key)
	assert.Zero(t, r.gaps.Load())
	assert.Equal(t, uint64(1), r.reconciled.Load(), "trade 2, once")
	assert.NotContains(t, r.orders, key, "ended, every fill delivered: forgotten")
	assert.NotContains(t, r.jumps, key)
}

// TestS36JumpEndedFillsShortTwiceMarked: an ended order's fills short
// again when asked again: the marker, once, then forgotten.
func TestS36JumpEndedFillsShortTwiceMarked(t *testing.T) {
	b := &endedLagBackend{laggingBackend{fakeBackend: fakeBackend{rules_: okxRefusals}, lag: 10}}
	r, key, clk := lagRig(t, b)
	r.askJump(context.Background(), 0, key)
	assert.Zero(t, r.gaps.Load())
	clk.now = clk.now.Add(jumpEvery)
	r.askJump(context.Background(), 0, key)
	assert.Equal(t, uint64(1), r.gaps.Load(), "the marker, after the second short answer")
	assert.NotContains(t, r.orders, key, "ended: forgotten after its marker")
	assert.NotContains(t, r.jumps, key)
}

// gatedBackend is a laggingBackend (its fills always short) whose first
// order query waits for gate once it told in; safe for concurrent use.
type gatedBackend struct {
	mu       sync.Mutex
	b        laggingBackend
	n        int
	in, gate chan struct{}
}

func (g *gatedBackend) rules() *refusalRules                { return g.b.rules() }
func (g *gatedBackend) budget() (perMinute, o, f, open int) { return g.b.budget() }
func (g *gatedBackend) open(ctx context.Context, conn uint64, sym string, dst []normalize.QueryOrder) ([]normalize.QueryOrder, string, error) {
	return g.b.open(ctx, conn, sym, dst)
}

func (g *gatedBackend) order(ctx context.Context, conn uint64, key orderKey, byClient bool) ([]normalize.QueryOrder, error) {
	g.mu.Lock()
	g.n++
	first := g.n == 1
	st, err := g.b.order(ctx, conn, key, byClient)
	g.mu.Unlock()
	if first {
		close(g.in)
		<-g.gate
	}
	return st, err
}

func (g *gatedBackend) fills(ctx context.Context, conn uint64, key orderKey, cursor string, dst []normalize.QueryFill) ([]normalize.QueryFill, string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.b.fills(ctx, conn, key, cursor, dst)
}

// TestS36JumpInFlightPassOneMarker: a jump query is in flight when a
// reconnection's pass starts; the pass asks about the order too, and its
// answer (fills short: a marker) is the order's. The jump's own answer,
// short as well, adds nothing: no second marker, now or after a retry.
// Before s36sess the jump's answer was retried jumpEvery later and gave a
// second marker for the same loss.
func TestS36JumpInFlightPassOneMarker(t *testing.T) {
	g := &gatedBackend{b: laggingBackend{fakeBackend: fakeBackend{rules_: okxRefusals}, lag: 10},
		in: make(chan struct{}), gate: make(chan struct{})}
	r, key, _ := lagRig(t, g)
	r.mu.Lock()
	r.opened = true // (the open orders were read: the pass alone runs)
	r.mu.Unlock()
	jumped := make(chan struct{})
	go func() {
		defer close(jumped)
		r.askJump(context.Background(), 0, key)
	}()
	closed(t, g.in, "the jump's order query")
	r.subscribed(1) // a reconnection: its pass
	r.mu.Lock()
	pass := r.done
	r.mu.Unlock()
	closed(t, pass, "the pass ended")
	require.Equal(t, uint64(1), r.gaps.Load(), "the pass's marker")
	close(g.gate)
	closed(t, jumped, "the jump's answer")
	r.s.bg.Wait()
	assert.Equal(t, uint64(1), r.gaps.Load(), "one loss, one marker")
	assert.NotContains(t, r.jumps, key, "not asked again: the pass answered after the jump asked")
}

// closed waits (up to a minute: the machine is loaded) until ch closes.
func closed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		require.FailNow(t, "waited a minute for "+what)
	}
}
