package dispatch

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS30rvdispSweepRacesPublish: the sweep of the routes (every maxGone
// Unsubscribes) now runs outside Dispatcher.mu, while Publish learns and
// updates the same routes and Subscribe makes new epochs. Whatever the
// interleaving, a subscription gets every event of its stream whose Publish
// began after its Subscribe returned (a sweep writing back an older
// route must not lose it), and none after its Unsubscribe returned
// but the one its goroutine may already hold. Subscriptions churn in the
// background so that sweeps run throughout.
func TestS30rvdispSweepRacesPublish(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	const streams = 16
	var sweeps atomic.Int64
	d.idx.Load().onSweep = func() { sweeps.Add(1) }
	var started atomic.Uint64 // the seq of the last Publish begun
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { // the publisher: one trade after another, round the streams
		defer wg.Done()
		for seq := uint64(1); ; seq++ {
			select {
			case <-stop:
				return
			default:
			}
			ev, err := p.TryGet()
			if err != nil {
				errs <- err
				return
			}
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, "S-"+strconv.Itoa(int(seq%streams)), schema.EventTrade, seq
			started.Store(seq)
			if err := d.Publish(context.Background(), ev); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() { // churn: a sweep every maxGone rounds
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s, err := d.Subscribe(Filter{Symbols: []string{"S-" + strconv.Itoa(i%streams)}}, nil)
			if err == nil {
				err = d.Unsubscribe(s)
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}()

	const watchers = 40
	for w := range watchers {
		sym := "S-" + strconv.Itoa(w%streams)
		var mu sync.Mutex
		var got []uint64
		var unsubscribed atomic.Bool
		var late atomic.Uint64
		s, err := d.Subscribe(Filter{Symbols: []string{sym}}, &SubscribeOptions{OrderedBound: 1 << 16, Handler: func(ev *schema.CanonicalEvent) {
			if unsubscribed.Load() {
				late.Add(1)
			}
			mu.Lock()
			got = append(got, ev.SeqProvider)
			mu.Unlock()
		}})
		require.NoError(t, err)
		from := started.Load() // every Publish begun after this one reaches s
		var upTo uint64
		eventually(t, func() bool { upTo = started.Load(); return upTo >= from+4*streams }, "the publisher went on")
		upTo-- // the last Publish may not have finished
		eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(got) > 0 && got[len(got)-1] >= upTo-streams
		}, "the watcher got the events published after its Subscribe")
		require.NoError(t, d.Unsubscribe(s))
		unsubscribed.Store(true)
		mu.Lock()
		want := map[uint64]bool{}
		for seq := from + 1; seq <= upTo-streams; seq++ {
			if "S-"+strconv.Itoa(int(seq%streams)) == sym {
				want[seq] = true
			}
		}
		for _, seq := range got {
			delete(want, seq)
		}
		mu.Unlock()
		require.Empty(t, want, "watcher %d missed events published after its Subscribe returned", w)
		require.Zero(t, s.Stats().Dropped)
		assert.LessOrEqual(t, late.Load(), uint64(1), "watcher %d: deliveries begun after Unsubscribe returned", w)
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		require.NoError(t, err)
	default:
	}
	require.Positive(t, sweeps.Load(), "no sweep ran: the test tests nothing")
	closeDispatcher(t, d)
}
