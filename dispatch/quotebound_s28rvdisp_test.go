package dispatch

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS28rvQuoteBoundNeverSilentlyStale: a subscriber that moves in fits
// (a handler let through a few events at a time) behind a coalescing lane
// bounded far below its streams, quotes of two venues and two types over
// many symbols, execution reports among them. What it gets: every
// execution report, in order (contract 3); each stream's quotes in the
// order published, each newer than the last (latest wins, never an older
// one after a newer); and in the end each stream's last published quote,
// or a gap marker about it (its venue and type, every symbol) delivered
// after the last quote of it that it got — never a stream left on an
// older quote untold (contract 4). Every marker of the bound is about a
// coalescable type and names no symbol.
func TestS28rvQuoteBoundNeverSilentlyStale(t *testing.T) {
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 7))
		p := newEventPool(256)
		d := New(p, nil)
		tokens := make(chan struct{}, 1<<20)
		var mu sync.Mutex
		var got []*schema.CanonicalEvent
		s, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
			<-tokens
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
		}})
		require.NoError(t, err)
		s.mu.Lock()
		s.quoteBound = 8 + rng.IntN(16)
		s.staleBound = 1 + rng.IntN(8) // past it, markers about a venue and type
		s.mu.Unlock()
		venues := []schema.Venue{bin, okx}
		types := []schema.EventType{schema.EventBBO, schema.EventTicker}
		last := map[routeKey]uint64{}
		var execs []uint64
		for seq := uint64(1); seq <= 6000; seq++ {
			if rng.IntN(20) == 0 {
				publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, seq)
				execs = append(execs, seq)
			} else {
				v, typ := venues[rng.IntN(2)], types[rng.IntN(2)]
				sym := "S" + strconv.Itoa(rng.IntN(60))
				publish(t, d, p, v, sym, typ, seq)
				last[routeKey{venue: v, symbol: sym, typ: typ}] = seq
			}
			for range rng.IntN(3) {
				if rng.IntN(4) == 0 {
					tokens <- struct{}{}
				}
			}
		}
		close(tokens)
		closeDispatcher(t, d)
		require.Positive(t, s.Stats().Gaps, "seed %d: nothing dropped past the bound: the test tests nothing", seed)

		seen := map[routeKey]uint64{} // the last quote delivered of each stream
		told := map[routeKey]bool{}   // a marker about it came after that quote
		var gotExecs []uint64
		for _, ev := range got {
			switch ev.Type {
			case schema.EventExecReport:
				gotExecs = append(gotExecs, ev.SeqProvider)
			case schema.EventGap:
				require.Equal(t, schema.GapSubscriberQueue, ev.Control.GapSource)
				require.True(t, ev.Control.GapType.Coalescable())
				for k := range last {
					if k.venue == ev.Venue && k.typ == ev.Control.GapType && (ev.Symbol == "" || k == streamKey(ev, ev.Control.GapType)) {
						told[k] = true
					}
				}
			default:
				k := keyOf(ev)
				require.Greater(t, ev.SeqProvider, seen[k], "seed %d: %+v: a quote older than one delivered before", seed, k)
				seen[k], told[k] = ev.SeqProvider, false
			}
		}
		require.Equal(t, execs, gotExecs, "seed %d: execution reports", seed)
		for k, seq := range last {
			if seen[k] != seq {
				require.True(t, told[k], "seed %d: %+v left on quote %d, its last %d, untold", seed, k, seen[k], seq)
			}
		}
	}
}
