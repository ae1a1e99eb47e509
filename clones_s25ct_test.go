package meltica_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// dispatch/doc.go, Clones: "Every subscriber gets its own copy of each
// event: it may change any field, write to its book levels and raw bytes,
// append to them and keep the event for as long as it likes, and no other
// subscriber sees any of it" — though the copies of one publish share one
// allocation. Five subscribers of the same book diffs and trades (Raw
// kept); the odd ones scribble on every copy they get — levels
// overwritten, levels and raw bytes appended to, fields changed — before
// the even ones look; the even ones see exactly what a parser alone
// makes of the message.
func TestS25ctSubscribersCannotTouchEachOthersCopies(t *testing.T) {
	ctx := context.Background()
	msgs := [][]byte{
		[]byte(`{"e":"depthUpdate","E":1700000000000,"s":"BTCUSDT","U":101,"u":103,"b":[["1.00","2.00"],["0.99","1.50"]],"a":[["1.01","3.00"],["1.02","0.25"],["1.03","7"]]}`),
		[]byte(`{"e":"trade","E":1700000000001,"s":"BTCUSDT","t":7,"p":"67000.01000000","q":"0.00100000","T":1700000000000,"m":true}`),
		[]byte(`{"e":"depthUpdate","E":1700000000002,"s":"BTCUSDT","U":104,"u":104,"b":[],"a":[["1.01","0"]]}`),
	}
	// What a parser alone makes of each message.
	var want []string
	for _, m := range msgs {
		pools := schema.NewPools(nil)
		sink := &s25ctKeepSink{}
		p := normalize.NewBinance(pools.Events, sink, &normalize.Options{KeepRaw: true})
		require.NoError(t, p.HandleBytes(ctx, m, 1))
		want = append(want, sink.shown...)
	}
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	const n = 5
	scribbled := make([]chan struct{}, len(want)) // closed once every odd subscriber scribbled on copy i
	for i := range scribbled {
		scribbled[i] = make(chan struct{})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	odd := make([]int, len(want))
	var got [n][]string
	for k := range n {
		k := k
		i := 0
		wg.Add(1)
		_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
			if k%2 == 1 {
				for j := range ev.Book.Bids {
					ev.Book.Bids[j].Price = schema.MustParseDecimal("666")
				}
				ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.MustParseDecimal("1"), Qty: schema.MustParseDecimal("1")})
				ev.Book.Asks = append(ev.Book.Asks, schema.Level{Price: schema.MustParseDecimal("2"), Qty: schema.MustParseDecimal("2")})
				for j := range ev.Raw {
					ev.Raw[j] = 'X'
				}
				ev.Raw = append(ev.Raw, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"...)
				ev.Symbol, ev.SeqProvider, ev.Trade.Price = "XXX", 666, schema.MustParseDecimal("666")
				mu.Lock()
				odd[i]++
				if odd[i] == n/2 {
					close(scribbled[i])
				}
				mu.Unlock()
			} else {
				<-scribbled[i]
				got[k] = append(got[k], s25ctShow(ev))
			}
			i++
			if i == len(want) {
				wg.Done()
			}
		}})
		require.NoError(t, err)
	}
	p := normalize.NewBinance(pools.Events, d, &normalize.Options{KeepRaw: true})
	for _, m := range msgs {
		require.NoError(t, p.HandleBytes(ctx, m, 1))
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("not every subscriber got every event")
	}
	for k := 0; k < n; k += 2 {
		assert.Equal(t, want, got[k], "subscriber %d's copies", k)
	}
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}

// The module doc, step 4: a subscriber's clones are "ordinary heap values,
// reclaimed by the garbage collector, and a pool refuses them (Put of a
// clone panics)", naming the pool and the type (pool/doc.go).
func TestS25ctPutOfAClonePanics(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	got := make(chan *schema.CanonicalEvent, 1)
	_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	p := normalize.NewBinance(pools.Events, d, nil)
	require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"trade","E":1700000000001,"s":"BTCUSDT","t":7,"p":"1.00","q":"2","T":1700000000000,"m":true}`), 1))
	clone := <-got
	assert.False(t, clone.Pooled())
	assert.PanicsWithValue(t, `pool "events": Put of a *schema.CanonicalEvent that did not come from any pool (a heap clone, or made with new)`, func() { pools.Events.Put(clone) })
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx), "the refused Put cost the pool nothing")
}
