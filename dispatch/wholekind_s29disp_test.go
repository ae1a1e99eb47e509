package dispatch

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// feedLog records what one subscription got: execution reports in order,
// the quotes of each stream.
type feedLog struct {
	mu     sync.Mutex
	execs  []uint64
	quotes map[string][]uint64
}

func (l *feedLog) add(ev *schema.CanonicalEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch ev.Type {
	case schema.EventExecReport:
		l.execs = append(l.execs, ev.SeqProvider)
	case schema.EventBBO:
		if l.quotes == nil {
			l.quotes = map[string][]uint64{}
		}
		l.quotes[ev.Symbol] = append(l.quotes[ev.Symbol], ev.SeqProvider)
	}
}

// check holds l to the contracts: execution reports in the order
// published, each once, every one accepted delivered when complete (the
// subscription ran to Close's end); quotes of a stream never older than
// one delivered before (contract 4), and, when complete, each stream's last
// accepted quote or a newer one delivered last.
func (l *feedLog) check(t *testing.T, name string, accepted []uint64, lastQuote map[string]uint64, complete bool) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := 1; i < len(l.execs); i++ {
		require.Greater(t, l.execs[i], l.execs[i-1], "%s: execution reports out of order or twice: %v", name, l.execs)
	}
	for sym, qs := range l.quotes {
		for i := 1; i < len(qs); i++ {
			require.Greater(t, qs[i], qs[i-1], "%s: stream %s: an older quote after a newer one", name, sym)
		}
	}
	if !complete {
		return
	}
	got := map[uint64]bool{}
	for _, s := range l.execs {
		got[s] = true
	}
	for _, s := range accepted {
		require.True(t, got[s], "%s: execution report %d accepted by Publish, never delivered", name, s)
	}
	for sym, want := range lastQuote {
		qs := l.quotes[sym]
		require.NotEmpty(t, qs, "%s: stream %s: no quote delivered", name, sym)
		require.GreaterOrEqual(t, qs[len(qs)-1], want, "%s: stream %s left stale", name, sym)
	}
}

// feedMix publishes execution reports and quotes of streams Q0..Q3
// interleaved (SeqProvider rising across all), n events or until Publish
// says ErrClosed; it returns the reports Publish accepted and each
// stream's last accepted quote.
func feedMix(t *testing.T, d *Dispatcher, p interface {
	TryGet() (*schema.CanonicalEvent, error)
}, n int, published *atomic.Int64) (accepted []uint64, last map[string]uint64, total uint64) {
	last = map[string]uint64{}
	for i := 1; i <= n; i++ {
		ev, err := p.TryGet()
		if err != nil {
			i--
			continue // the pool is small: the subscribers hold none, Publish returns it
		}
		ev.Venue, ev.SeqProvider = bin, uint64(i)
		if i%3 == 0 {
			ev.Type, ev.Symbol = schema.EventExecReport, "X"
		} else {
			ev.Type, ev.Symbol = schema.EventBBO, "Q"+strconv.Itoa(i%4)
		}
		typ, sym := ev.Type, ev.Symbol
		err = d.Publish(context.Background(), ev)
		if published != nil {
			published.Add(1)
		}
		if errors.Is(err, ErrClosed) {
			return accepted, last, total
		}
		require.NoError(t, err)
		total++
		if typ == schema.EventExecReport {
			accepted = append(accepted, uint64(i))
		} else {
			last[sym] = uint64(i)
		}
	}
	return accepted, last, total
}

// TestS29HandlerMisbehavesOnEveryLane: a handler that panics, blocks
// forever, unsubscribes itself, or calls Close on itself (documented as
// not allowed: it ends with its context) — with execution reports
// (critical lane) and quotes (coalescing lane) in its feed. For each: a
// subscription beside it gets every execution report accepted, in order,
// and every stream's latest quote, none older after a newer; the one
// misbehaving gets its reports in order, each once, and no older quote
// after a newer, and (panics: it keeps going) every report and every
// stream's latest; its counters add up (delivered, replaced and discarded
// are what was queued).
func TestS29HandlerMisbehavesOnEveryLane(t *testing.T) {
	const n = 3000
	for _, how := range []string{"panics", "blocks", "unsubscribes", "closes"} {
		t.Run(how, func(t *testing.T) {
			p := newEventPool(8)
			d := New(p, nil)
			var witness, victim feedLog
			ws, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: witness.add})
			require.NoError(t, err)
			release := make(chan struct{})
			closeCtx, cancelClose := context.WithCancel(context.Background())
			defer cancelClose()
			closedIn := make(chan error, 1)
			var self *Subscription
			var selfReady = make(chan struct{})
			var calls atomic.Int64
			handler := func(ev *schema.CanonicalEvent) {
				c := calls.Add(1)
				victim.add(ev)
				switch how {
				case "panics":
					if c%7 == 0 {
						panic("s29: a handler's fault")
					}
				case "blocks":
					if c == n/10 {
						<-release // held until the test ends
					}
				case "unsubscribes":
					if c == n/10 {
						<-selfReady
						_ = d.Unsubscribe(self)
					}
				case "closes":
					if c == n/10 {
						closedIn <- d.Close(closeCtx) // waits for this very handler: ends with closeCtx
					}
				}
			}
			self, err = d.Subscribe(Filter{}, &SubscribeOptions{Handler: handler, OnPanic: func(*schema.CanonicalEvent, any) {}})
			require.NoError(t, err)
			close(selfReady)
			accepted, last, total := feedMix(t, d, p, n, nil)
			switch how {
			case "closes":
				// Close drains the others meanwhile: the witness ends
				// having delivered all it had; then Close's context ends.
				waitDone(t, ws)
				cancelClose()
				require.Error(t, <-closedIn, "Close from a handler ended without its context")
			case "blocks":
				// The witness catches up; the blocked one never will.
				eventually(t, func() bool { st := ws.Stats(); return st.Delivered+st.Coalesced == total }, "the witness caught up")
				ctx, cancel := context.WithCancel(context.Background())
				cancel() // give up draining it at once: what it holds is discarded
				var ce *CloseError
				require.ErrorAs(t, d.Close(ctx), &ce)
				close(release)
			}
			if how != "blocks" {
				closeDispatcher(t, d)
			}
			waitDone(t, self)
			witness.check(t, "witness", accepted, last, true)
			victim.check(t, how, accepted, last, how == "panics")
			st := self.Stats()
			if how == "unsubscribes" || how == "closes" {
				// Ended from inside its handler: nothing after it.
				require.Equal(t, int64(n/10), calls.Load(), "events delivered after the handler ended its subscription")
			}
			if how == "panics" {
				require.Positive(t, st.Panics)
			}
			// Every event queued for it was delivered, replaced by a newer
			// quote, or released and counted: none went unaccounted.
			if how == "panics" || how == "blocks" {
				require.Equal(t, total, st.Delivered+st.Coalesced+st.Discarded, "%+v", st)
			}
		})
	}
}

// TestS29CloseDuringEveryStep: Close at a random point while publishers
// publish, subscriptions come and go and one stays: Publish returns nil or
// ErrClosed, Subscribe a subscription or ErrClosed, Unsubscribe nil or
// ErrUnknownSubscription; nothing panics or races (-race); the one that
// stayed gets every execution report Publish accepted, in order, and every
// stream's latest quote accepted, never an older after a newer; every
// pooled event is back in the pool; every goroutine ends (goleak).
func TestS29CloseDuringEveryStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 1))
	for round := range 30 {
		p := newEventPool(16)
		d := New(p, nil)
		var stay feedLog
		_, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: stay.add})
		require.NoError(t, err)
		var published atomic.Int64
		closeAt := int64(rng.IntN(400))
		var wg sync.WaitGroup
		var accepted []uint64
		var last map[string]uint64
		wg.Go(func() { accepted, last, _ = feedMix(t, d, p, 100000, &published) })
		for c := range 2 {
			wg.Go(func() {
				var mine []*Subscription
				for i := 0; ; i++ {
					if (i%3 == 2 || len(mine) > 8) && len(mine) > 0 {
						err := d.Unsubscribe(mine[0])
						if err != nil {
							require.ErrorIs(t, err, ErrUnknownSubscription)
						}
						mine = mine[1:]
						continue
					}
					f := Filter{}
					if (i+c)%2 == 0 {
						f.Types = []schema.EventType{schema.EventExecReport}
					}
					s, err := d.Subscribe(f, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
					if errors.Is(err, ErrClosed) {
						for _, s := range mine {
							if err := d.Unsubscribe(s); err != nil {
								require.ErrorIs(t, err, ErrUnknownSubscription)
							}
						}
						return
					}
					require.NoError(t, err)
					mine = append(mine, s)
				}
			})
		}
		for published.Load() < closeAt {
			runtime.Gosched()
		}
		closeDispatcher(t, d)
		wg.Wait()
		stay.check(t, "round "+strconv.Itoa(round), accepted, last, true)
		require.Zero(t, p.Stats().InUse, "round %d: pooled events not returned", round)
	}
}
