package schema_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s42rvschFill writes every out-of-line section of ev, taken with its Use
// method, and reports a section that came back not zero (an earlier user's
// data) or an event that carried one after Get.
func s42rvschFill(ev *schema.CanonicalEvent, n int64) (stale []string) {
	if ev.Ticker != nil || ev.Kline != nil || ev.Mark != nil || ev.Liquidation != nil ||
		ev.Exec != nil || ev.Control != nil || ev.Balance != nil || ev.Position != nil {
		stale = append(stale, "a section carried after Get")
	}
	check := func(name string, zero bool) {
		if !zero {
			stale = append(stale, name)
		}
	}
	d := schema.NewDecimal(n, 0)
	t := ev.UseTicker()
	check("Ticker", *t == schema.Ticker{})
	t.Last, t.Window = d, "1h"
	k := ev.UseKline()
	check("Kline", *k == schema.Kline{})
	k.Close, k.Interval = d, "1m"
	m := ev.UseMark()
	check("Mark", *m == schema.Mark{})
	m.MarkPrice = d
	l := ev.UseLiquidation()
	check("Liquidation", *l == schema.Liquidation{})
	l.Qty = d
	x := ev.UseExec()
	check("Exec", *x == schema.Execution{})
	x.Qty = d
	c := ev.UseControl()
	check("Control", *c == schema.Control{})
	c.Code, c.Reason = n, "r"
	b := ev.UseBalance()
	check("Balance", *b == schema.Balance{})
	b.Free = d
	p := ev.UsePosition()
	check("Position", *p == schema.Position{})
	p.Amount = d
	ev.SeqProvider = uint64(n)
	return stale
}

// TestS42rvschPoolCyclesKeepSectionsApart: events carrying every
// out-of-line section cycle through a pool between goroutines — filled on
// one, cloned and Put on another, taken again by any — under -race: a
// Get's event carries no section, each Use hands out a zero section (its
// kept storage zeroed by the last Put), and a clone made before the Put
// keeps its values while the event is reused. Seen failing (stale
// sections reported) with outOfLine.release not zeroing the sections.
func TestS42rvschPoolCyclesKeepSectionsApart(t *testing.T) {
	defer goleak.VerifyNone(t)
	const workers, rounds = 4, 300
	events := pool.New("events", workers, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	handoff := make(chan *schema.CanonicalEvent)
	type result struct {
		stale []string
		clone *schema.CanonicalEvent
	}
	results := make(chan result, 2*workers*rounds) // a stale report and a clone per round at most: never blocks
	var fillers, putters sync.WaitGroup
	for w := range workers {
		fillers.Add(1)
		go func() {
			defer fillers.Done()
			for i := range rounds {
				ev, err := events.Get(context.Background())
				if err != nil {
					results <- result{stale: []string{err.Error()}}
					return
				}
				if s := s42rvschFill(ev, int64(w*rounds+i+1)); s != nil {
					results <- result{stale: s}
				}
				handoff <- ev
			}
		}()
	}
	for range workers {
		putters.Add(1)
		go func() {
			defer putters.Done()
			for ev := range handoff {
				c := ev.Clone()
				events.Put(ev)
				results <- result{clone: c}
			}
		}()
	}
	fillers.Wait()
	close(handoff)
	putters.Wait()
	close(results)
	clones := 0
	for r := range results {
		if !assert.Empty(t, r.stale) {
			continue
		}
		clones++
		c, n := r.clone, int64(r.clone.SeqProvider)
		d := schema.NewDecimal(n, 0)
		assert.Equal(t, schema.Ticker{Last: d, Window: "1h"}, *c.Ticker)
		assert.Equal(t, schema.Kline{Close: d, Interval: "1m"}, *c.Kline)
		assert.Equal(t, schema.Mark{MarkPrice: d}, *c.Mark)
		assert.Equal(t, schema.Liquidation{Qty: d}, *c.Liquidation)
		assert.Equal(t, schema.Execution{Qty: d}, *c.Exec)
		assert.Equal(t, schema.Control{Code: n, Reason: "r"}, *c.Control)
		assert.Equal(t, schema.Balance{Free: d}, *c.Balance)
		assert.Equal(t, schema.Position{Amount: d}, *c.Position)
	}
	assert.Equal(t, workers*rounds, clones)
}

// TestS42rvschCloneIntoItselfChangesNothing: CloneInto's doc says a
// CloneInto of an event into itself does nothing: a pooled event keeps
// its sections (the same memory, the same values) and its book levels.
// Seen failing (every section lost: the pointers set to nil before they
// were read) with the c == e guard removed.
func TestS42rvschCloneIntoItselfChangesNothing(t *testing.T) {
	events := pool.New("events", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	ev, err := events.TryGet()
	require.NoError(t, err)
	assert.Empty(t, s42rvschFill(ev, 7))
	ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.NewDecimal(1, 0)})
	ev.Raw = append(ev.Raw, 'x')
	want := ev.Clone()
	tk, ctl := ev.Ticker, ev.Control
	ev.CloneInto(ev)
	assert.Same(t, tk, ev.Ticker)
	assert.Same(t, ctl, ev.Control)
	got := ev.Clone()
	assert.Equal(t, want, got)
	events.Put(ev)
}
