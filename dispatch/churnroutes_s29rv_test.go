package dispatch

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS29rvChurnKeptRoutes is a model of the routes kept across Subscribe
// and Unsubscribe (s29disp: removed subscriptions taken out lazily, every
// maxGone Unsubscribes swept), under churn while a publisher publishes:
//   - a subscription gets every event of its streams whose Publish began
//     after its Subscribe returned, until its Unsubscribe was called, in
//     order, each once (an ADDED subscription misses no stream whose route
//     was kept);
//   - it gets no event whose Publish began after its Unsubscribe returned
//     (a route kept that still holds it queues nothing for it).
//
// Streams are trades (the ordered lane, bound high enough never to drop);
// the filters name a few symbols or none, so routes hold different sets.
// Several hundred rounds pass maxGone and maxChanges many times; the route
// store is kept small (floor, ceil) so that generations turn over too.
func TestS29rvChurnKeptRoutes(t *testing.T) {
	const streams, rounds, live = 40, 400, 8
	p := newEventPool(1024)
	d := New(p, nil)
	ix := d.idx.Load()
	ix.mu.Lock()
	ix.limit, ix.floor, ix.ceil = 16, 16, 32
	ix.mu.Unlock()

	sym := func(seq uint64) string { return "S-" + strconv.Itoa(int(seq%streams)) }
	var published atomic.Uint64 // events < published have returned from Publish; none > published has begun
	var failed atomic.Value     // first violation, a string

	type sub struct {
		s    *Subscription
		want map[string]bool // nil: every symbol
		from uint64          // events > from began after Subscribe returned
		cut  atomic.Uint64   // events > cut began after Unsubscribe returned; 0: not yet
		mu   sync.Mutex
		got  []uint64 // every event received
	}
	wants := func(x *sub, seq uint64) bool { return x.want == nil || x.want[sym(seq)] }
	subscribe := func(r *rand.Rand) *sub {
		x := &sub{}
		var f Filter
		if r.IntN(4) > 0 {
			x.want = map[string]bool{}
			for range 1 + r.IntN(3) {
				sy := "S-" + strconv.Itoa(r.IntN(streams))
				x.want[sy] = true
				f.Symbols = append(f.Symbols, sy)
			}
		}
		var err error
		x.s, err = d.Subscribe(f, &SubscribeOptions{OrderedBound: 1 << 20, Handler: func(ev *schema.CanonicalEvent) {
			seq := ev.SeqProvider
			if c := x.cut.Load(); c != 0 && seq > c {
				failed.CompareAndSwap(nil, "event "+strconv.FormatUint(seq, 10)+" published after Unsubscribe returned (at "+strconv.FormatUint(c, 10)+") delivered")
			}
			x.mu.Lock()
			x.got = append(x.got, seq)
			x.mu.Unlock()
		}})
		require.NoError(t, err)
		x.from = published.Load()
		return x
	}
	owedGot := func(x *sub, to uint64) (n int) {
		x.mu.Lock()
		defer x.mu.Unlock()
		for _, seq := range x.got {
			if seq > x.from && seq < to {
				n++
			}
		}
		return n
	}
	unsubscribe := func(x *sub) {
		// Every event of its streams in (from, to) has returned from Publish:
		// all of them are owed.
		to := published.Load()
		owed := 0
		for seq := x.from + 1; seq < to; seq++ {
			if wants(x, seq) {
				owed++
			}
		}
		poll := time.NewTicker(100 * time.Microsecond)
		defer poll.Stop()
		guard := time.After(60 * time.Second) // a failure guard only
		for owedGot(x, to) < owed && failed.Load() == nil {
			select {
			case <-poll.C:
			case <-guard:
				t.Fatalf("subscription %d: %d of %d events owed received", x.s.ID(), owedGot(x, to), owed)
			}
		}
		require.NoError(t, d.Unsubscribe(x.s))
		x.cut.Store(published.Load())
		waitDone(t, x.s)
		x.mu.Lock()
		defer x.mu.Unlock()
		for i, seq := range x.got {
			require.True(t, wants(x, seq), "subscription %d got %d, not of its streams", x.s.ID(), seq)
			if i > 0 {
				require.Greater(t, seq, x.got[i-1], "subscription %d: out of order or twice", x.s.ID())
			}
		}
		require.Zero(t, x.s.Stats().Dropped, "subscription %d dropped: the model needs every event", x.s.ID())
	}

	tick := make(chan struct{}, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the publisher: a batch per tick, overlapping the churn
		defer wg.Done()
		var seq uint64
		for {
			select {
			case <-tick:
			case <-stop:
				return
			}
			for range 200 {
				seq++
				published.Store(seq)
				ev, err := p.TryGet() // Publish gives it back: never empty
				if err != nil {
					failed.CompareAndSwap(nil, "TryGet: "+err.Error())
					return
				}
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, sym(seq), schema.EventTrade, seq
				if err := d.Publish(context.Background(), ev); err != nil {
					failed.CompareAndSwap(nil, "Publish: "+err.Error())
					return
				}
			}
		}
	}()
	r := rand.New(rand.NewPCG(29, 0xd15))
	var subs []*sub
	for round := range rounds {
		if len(subs) < live && (len(subs) < 2 || r.IntN(2) == 0) {
			subs = append(subs, subscribe(r))
		} else {
			i := r.IntN(len(subs))
			unsubscribe(subs[i])
			subs = append(subs[:i], subs[i+1:]...)
		}
		select {
		case tick <- struct{}{}:
		default:
		}
		if v := failed.Load(); v != nil {
			t.Fatalf("round %d: %s", round, v)
		}
	}
	for _, x := range subs {
		unsubscribe(x)
	}
	close(stop)
	wg.Wait()
	if v := failed.Load(); v != nil {
		t.Fatal(v)
	}
	closeDispatcher(t, d)
}
