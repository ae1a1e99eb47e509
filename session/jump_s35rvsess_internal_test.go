package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// laggingBackend answers the order query with 0.3 of 0.5 executed, still
// open, and the fills query, its first lag answers, with trade 1 (0.1)
// alone, then with trades 1 and 2 (0.1, 0.2): a venue whose fill list is
// a moment behind its order.
type laggingBackend struct {
	fakeBackend
	lag, fillsAsked int
}

func (b *laggingBackend) order(_ context.Context, _ uint64, key orderKey, _ bool) ([]normalize.QueryOrder, error) {
	b.asked++
	o := normalize.QueryOrder{Symbol: key.symbol}
	o.VenueOrderID, o.Status, o.Qty, o.CumFillQty = key.id, schema.StatusPartiallyFilled, dec("0.5"), dec("0.3")
	return []normalize.QueryOrder{o}, nil
}

func (b *laggingBackend) fills(_ context.Context, _ uint64, key orderKey, _ string, dst []normalize.QueryFill) ([]normalize.QueryFill, string, error) {
	b.fillsAsked++
	n := 2
	if b.fillsAsked <= b.lag {
		n = 1
	}
	for i, q := range []string{"0.1", "0.2"}[:n] {
		dst = append(dst, normalize.QueryFill{Symbol: key.symbol, OrderID: key.id, TradeID: schema.MustID([]string{"1", "2"}[i]),
			Price: dec("100"), Qty: dec(q), QuoteQty: dec("10"), Time: int64(i + 1)})
	}
	return dst, "", nil
}

// lagRig is a reconciler over b whose followed order 7 had trade 1 (0.1)
// delivered and a streamed report saying 0.3 executed: trade 2 lost.
func lagRig(t *testing.T, b queryBackend) (*reconciler, orderKey, *stepClock) {
	t.Helper()
	pools := schema.NewPools(nil)
	clk := &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(1700000000, 0)}
	s := &Session{spec: venues[schema.VenueOKX], pools: pools, disp: dispatch.New(pools.Events, nil), dying: context.Background()}
	t.Cleanup(func() { require.NoError(t, s.disp.Close(context.Background())) })
	s.cfg.Client = wsclient.Options{Clock: clk}
	r := newReconciler(s, b)
	r.accepted, r.jumping = true, true // (no goroutine: the test asks)
	key := orderKey{symbol: "BTC-USDT", id: schema.MustID("7")}
	tr := &tracked{status: schema.StatusPartiallyFilled, delivered: dec("0.1"), cum: dec("0.3")}
	tr.trades = append(tr.trades, schema.MustID("1"))
	r.orders[key] = tr
	r.jumped(key, tr)
	return r, key, clk
}

// TestS35rvJumpFillsLagRetriedOnce: the jump query of an open order finds
// the venue's fills short of what its order query says executed (its fill
// list a moment behind: the stream is up, the fill just made). It is
// asked again jumpEvery later, with no gap marker; the second answer has
// the lost fill, delivered once, and no marker at all. Before s35rvsess
// the first short answer gave a marker at once and the fill came after
// it (or never, without a later report of the order).
func TestS35rvJumpFillsLagRetriedOnce(t *testing.T) {
	b := &laggingBackend{fakeBackend: fakeBackend{rules_: okxRefusals}, lag: 1}
	r, key, clk := lagRig(t, b)
	r.askJump(context.Background(), 0, key)
	assert.Zero(t, r.gaps.Load(), "no marker for the first short answer")
	assert.Zero(t, r.reconciled.Load())
	require.Contains(t, r.jumps, key, "asked again")
	assert.Equal(t, clk.now.Add(jumpEvery), r.jumps[key], "jumpEvery later")

	clk.now = clk.now.Add(jumpEvery)
	k, _, due := r.nextJump()
	require.True(t, due)
	require.Equal(t, key, k)
	r.askJump(context.Background(), 0, key)
	assert.Zero(t, r.gaps.Load())
	assert.Equal(t, uint64(1), r.reconciled.Load(), "trade 2, once")
	assert.NotContains(t, r.jumps, key)
}

// TestS35rvJumpFillsShortTwiceMarked: short again when asked again: the
// gap marker, once, and no third query without a new report.
func TestS35rvJumpFillsShortTwiceMarked(t *testing.T) {
	b := &laggingBackend{fakeBackend: fakeBackend{rules_: okxRefusals}, lag: 10}
	r, key, clk := lagRig(t, b)
	r.askJump(context.Background(), 0, key)
	assert.Zero(t, r.gaps.Load())
	clk.now = clk.now.Add(jumpEvery)
	r.askJump(context.Background(), 0, key)
	assert.Equal(t, uint64(1), r.gaps.Load(), "the marker, after the second short answer")
	assert.NotContains(t, r.jumps, key, "not asked a third time")

	// A later report of the order's jump: asked again, with its retry.
	r.mu.Lock()
	r.jumped(key, r.orders[key])
	r.mu.Unlock()
	clk.now = clk.now.Add(jumpEvery)
	r.askJump(context.Background(), 0, key)
	assert.Equal(t, uint64(1), r.gaps.Load(), "a new jump's first short answer is retried too")
	assert.Contains(t, r.jumps, key)
}

// TestS35rvPassTakesTheJump: a pass asks about every order: a jump noted
// before the pass asked about its order is the pass's, not asked again
// after it (a second query, and a second gap marker when the venue's
// fills are short). Before s35rvsess the jump stayed noted and askJumps
// asked once the pass ended.
func TestS35rvPassTakesTheJump(t *testing.T) {
	b := &laggingBackend{fakeBackend: fakeBackend{rules_: okxRefusals}, lag: 10}
	r, key, _ := lagRig(t, b)
	require.Contains(t, r.jumps, key)
	r.pass(context.Background(), 0)
	assert.Equal(t, uint64(1), r.gaps.Load(), "the pass's marker")
	assert.NotContains(t, r.jumps, key, "the pass asked about it")
}

// TestS35rvJumpNotedWithoutAllocating: Bybit's order topic reports an
// order's cumulative quantity before its execution topic reports the fill:
// every such report notes a jump, which the fill then covers (nextJump
// drops it). Noting it again costs no allocation once the first did.
func TestS35rvJumpNotedWithoutAllocating(t *testing.T) {
	s := &Session{spec: venues[schema.VenueBybit], dying: context.Background()}
	s.cfg.Client = wsclient.Options{Clock: wsclient.SystemClock()}
	r := newReconciler(s, &fakeBackend{rules_: bybitRefusals})
	r.accepted, r.jumping = true, true // (no goroutine: nothing asks)
	ev := &schema.CanonicalEvent{Venue: schema.VenueBybit, Symbol: "BTC-USDT", Type: schema.EventExecReport}
	x := ev.UseExec()
	x.VenueOrderID, x.ExecType, x.Status = schema.MustID("4293154"), schema.ExecNew, schema.StatusNew
	x.Qty = dec("1")
	require.False(t, r.observe(ev))
	key := orderKey{symbol: "BTC-USDT", id: x.VenueOrderID}
	x.ExecType, x.Status, x.CumFillQty = schema.ExecUnknown, schema.StatusPartiallyFilled, dec("0.01")
	r.observe(ev)
	require.Contains(t, r.jumps, key, "a jump noted")
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		delete(r.jumps, key) // (covered by the execution topic: dropped)
		<-r.jumpWake
		r.observe(ev)
	}), "a jump noted again")
	assert.Contains(t, r.jumps, key)
}

// TestS35rvJumpRefusedAfterLagKeepsNoFlag: the retry of a short answer
// refused by the venue gives the marker; a later jump's first short
// answer is retried again, not marked at once.
func TestS35rvJumpRefusedAfterLagKeepsNoFlag(t *testing.T) {
	b := &laggingBackend{fakeBackend: fakeBackend{rules_: okxRefusals}, lag: 10}
	r, key, clk := lagRig(t, b)
	r.askJump(context.Background(), 0, key)
	require.Zero(t, r.gaps.Load())
	clk.now = clk.now.Add(jumpEvery)
	r.q = &refusingBackend{laggingBackend: b}
	r.askJump(context.Background(), 0, key)
	require.Equal(t, uint64(1), r.gaps.Load(), "the refusal's marker")
	r.q = b
	r.mu.Lock()
	r.jumped(key, r.orders[key])
	r.mu.Unlock()
	clk.now = clk.now.Add(jumpEvery)
	r.askJump(context.Background(), 0, key)
	assert.Equal(t, uint64(1), r.gaps.Load(), "a new jump's first short answer is retried")
}

// refusingBackend refuses the order query (OKX 51603 is "no such order":
// an answer the caller takes as given up).
type refusingBackend struct{ *laggingBackend }

func (b *refusingBackend) order(context.Context, uint64, orderKey, bool) ([]normalize.QueryOrder, error) {
	return nil, errNoSuchOrder
}
