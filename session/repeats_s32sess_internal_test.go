package session

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// endClock is steppedClock whose AfterFunc timers the test fires by hand
// (fire: every one pending, whatever its duration; Now does not move).
type endClock struct {
	steppedClock
	mu      sync.Mutex
	pending []*endTimer
}

type endTimer struct {
	clk     *endClock
	f       func()
	d       time.Duration
	stopped bool
}

func newEndClock() *endClock {
	c := &endClock{steppedClock: steppedClock{Clock: wsclient.SystemClock()}}
	c.now.Store(time.Unix(1_700_000_000, 0).UnixNano())
	return c
}

func (c *endClock) AfterFunc(d time.Duration, f func()) wsclient.Timer {
	t := &endTimer{clk: c, f: f, d: d}
	c.mu.Lock()
	c.pending = append(c.pending, t)
	c.mu.Unlock()
	return t
}

// fire runs every pending timer's function, on the test's goroutine,
// and reports the durations they were armed for.
func (c *endClock) fire() []time.Duration {
	c.mu.Lock()
	ts := c.pending
	c.pending = nil
	c.mu.Unlock()
	var ds []time.Duration
	for _, t := range ts {
		c.mu.Lock()
		run := !t.stopped
		t.stopped = true
		c.mu.Unlock()
		if run {
			ds = append(ds, t.d)
			t.f()
		}
	}
	return ds
}

// armed is the durations of the timers pending.
func (c *endClock) armed() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ds []time.Duration
	for _, t := range c.pending {
		if !t.stopped {
			ds = append(ds, t.d)
		}
	}
	return ds
}

func (t *endTimer) C() <-chan time.Time { return nil }

func (t *endTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

func (t *endTimer) Reset(time.Duration) bool { panic("not used") }

// TestS32RepeatsWindowEndGivesMemoryBack: a busy window's memory is
// given back when the window ends on Client.Clock, though no report
// comes after it. Before s32sess the memory (up to 8 MB a connection) was
// kept until the next report read, which a quiet account may never get.
// (s33sess: the window ends when its timer fires, not when Now says.)
func TestS32RepeatsWindowEndGivesMemoryBack(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	t.Cleanup(r.stopNow)
	r.begin(1, 2)
	for i := range 2 * keepRepeats {
		require.False(t, r.check(1, repeatReport(i)))
	}
	require.Greater(t, cap(r.seen), keepRepeats)
	assert.True(t, r.check(2, repeatReport(3)), "remembered before the window's end")

	assert.Equal(t, []time.Duration{repeatsWindow}, clk.fire(), "the window's end")
	r.mu.Lock()
	assert.Zero(t, cap(r.seen), "a busy window's memory given back without a report")
	assert.Nil(t, r.index)
	assert.False(t, r.open, "the window closed")
	r.mu.Unlock()
	assert.Empty(t, clk.fire(), "nothing armed after the end")
}

// TestS32RepeatsStopDisarms: Session.Close stops the window's timer,
// and a begin after it arms nothing (no timer of the session's outlives
// Close).
func TestS32RepeatsStopDisarms(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	r.begin(1, 2)
	r.stopNow()
	r.begin(2, 3)
	assert.Empty(t, clk.fire())
}

// linearRepeats is repeats as it was before s32sess: the window's
// reports in a slice, each report compared with every one remembered.
// It is the reference for TestS32RepeatsSameAsLinear and the baseline of
// BenchmarkS32RepeatsWindow.
type linearRepeats struct {
	old, nb, until int64
	clk            wsclient.Clock
	ring           [repeatsCap]seenReport
	next           int
	seen           []seenReport
	head           int
}

func (r *linearRepeats) begin(old, nb uint64) {
	r.old, r.nb = int64(old), int64(nb)
	r.until = r.clk.Now().Add(repeatsWindow).UnixNano()
}

func (r *linearRepeats) check(conn uint64, ev *schema.CanonicalEvent) bool {
	if r.until != 0 && r.clk.Now().UnixNano() > r.until {
		r.until = 0
		r.seen, r.head = nil, 0
	}
	x := ev.ExecOrZero()
	ringed := func() {
		e := &r.ring[r.next]
		r.next = (r.next + 1) % repeatsCap
		e.conn, e.symbol, e.exec = conn, ev.Symbol, x
	}
	if r.until == 0 {
		ringed()
		return false
	}
	var other uint64
	switch conn {
	case uint64(r.old):
		other = uint64(r.nb)
	case uint64(r.nb):
		other = uint64(r.old)
	default:
		ringed()
		return false
	}
	for i := range r.ring {
		e := &r.ring[i]
		if e.conn == other && e.symbol == ev.Symbol && e.exec == x {
			return true
		}
	}
	for i := r.head; i < len(r.seen); i++ {
		e := &r.seen[i]
		if e.conn == other && e.symbol == ev.Symbol && e.exec == x {
			e.conn, e.symbol, e.exec = 0, "", schema.Execution{}
			for r.head < len(r.seen) && r.seen[r.head].conn == 0 {
				r.head++
			}
			return true
		}
	}
	if len(r.seen)-r.head >= maxRepeats {
		r.seen[r.head] = seenReport{}
		r.head++
		for r.head < len(r.seen) && r.seen[r.head].conn == 0 {
			r.head++
		}
	}
	if len(r.seen) == cap(r.seen) && r.head > 0 {
		n := copy(r.seen, r.seen[r.head:])
		clear(r.seen[n:])
		r.seen, r.head = r.seen[:n], 0
	}
	r.seen = append(r.seen, seenReport{conn: conn, symbol: ev.Symbol, exec: x})
	ringed() // (s32rvsess: a window's reports are among the latest too)
	return false
}

// mixedReport is one of few orders' reports, told apart by fields the
// index's hash leaves out (the cumulative quantity) as often as by those
// it takes: many share a hash, some are equal.
func mixedReport(rng *rand.Rand) *schema.CanonicalEvent {
	ev := &schema.CanonicalEvent{Type: schema.EventExecReport, Symbol: [...]string{"BTC-USDT", "ETH-USDT"}[rng.IntN(2)]}
	x := ev.UseExec()
	x.VenueOrderID = schema.MustID("o" + strconv.Itoa(rng.IntN(50)))
	if rng.IntN(2) == 0 {
		x.TradeID = schema.MustID("t" + strconv.Itoa(rng.IntN(3)))
	}
	x.CumFillQty = schema.NewDecimal(int64(rng.IntN(4)), 0)
	x.Status = schema.OrderStatus(rng.IntN(2))
	return ev
}

// TestS32RepeatsSameAsLinear: the indexed window drops exactly what the
// linear one did (s32sess kept its meaning): the same reports read on
// the same connections, across rotations and the windows' ends, the same
// answer each time (the maxRepeats bound: TestS31RepeatsWindowBounded).
func TestS32RepeatsSameAsLinear(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	t.Cleanup(r.stopNow)
	ref := &linearRepeats{clk: clk}
	rng := rand.New(rand.NewPCG(32, 1))
	conn := uint64(1)
	drops := 0
	for i := range 5000 {
		switch {
		case i%1600 == 0: // a rotation: conn+1 replaces conn
			r.begin(conn, conn+1)
			ref.begin(conn, conn+1)
			conn++
		case i%400 == 0: // time passes: at times a window ends first
			clk.now.Add(int64(repeatsWindow / 3))
			if ref.until != 0 && clk.Now().UnixNano() > ref.until {
				clk.fire() // the window's end on Client.Clock (s33sess: its timer, not Now)
			}
		}
		c := conn - uint64(rng.IntN(2)) // either connection of the rotation
		if rng.IntN(50) == 0 {
			c += 2 // one of no rotation
		}
		ev := mixedReport(rng)
		want := ref.check(c, ev)
		require.Equal(t, want, r.check(c, ev), "report %d", i)
		if want {
			drops++
		}
	}
	assert.Greater(t, drops, 300, "the sequence has repeats to drop")
	assert.Equal(t, uint64(drops), r.dropped.Load())
}

// TestS32RepeatsCheckAllocs: a window's check allocates nothing once its
// slice and index have grown to the window's reports (a report and its
// copy from the other connection, over and over).
func TestS32RepeatsCheckAllocs(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	t.Cleanup(r.stopNow)
	r.begin(1, 2)
	evs := make([]*schema.CanonicalEvent, 512)
	for i := range evs {
		evs[i] = repeatReport(i)
	}
	for i := range maxRepeats {
		r.check(1, evs[i%len(evs)])
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		r.check(1, evs[i%len(evs)])
		r.check(2, evs[i%len(evs)])
		i++
	})
	assert.Zero(t, allocs)
}

// BenchmarkS32RepeatsWindow: one report checked against a window holding
// maxRepeats reports (half from each connection, none its copy), then
// remembered in place of the oldest. impl=linear is repeats before
// s32sess (every one compared), impl=indexed today's.
func BenchmarkS32RepeatsWindow(b *testing.B) {
	type checker interface {
		begin(old, nb uint64)
		check(conn uint64, ev *schema.CanonicalEvent) bool
	}
	for _, impl := range []string{"linear", "indexed"} {
		b.Run("impl="+impl, func(b *testing.B) {
			clk := newEndClock()
			var r checker = &linearRepeats{clk: clk}
			if impl == "indexed" {
				ir := &repeats{clk: clk}
				b.Cleanup(ir.stopNow)
				r = ir
			}
			r.begin(1, 2)
			evs := make([]*schema.CanonicalEvent, 4*maxRepeats)
			for i := range evs {
				evs[i] = repeatReport(i)
				evs[i].Exec.TradeID.SetUint(uint64(i)) // each distinct
			}
			for i := range maxRepeats {
				r.check(uint64(1+i%2), evs[i])
			}
			b.ReportAllocs()
			i := maxRepeats
			for b.Loop() {
				r.check(uint64(1+i%2), evs[i%len(evs)])
				i++
			}
		})
	}
}
