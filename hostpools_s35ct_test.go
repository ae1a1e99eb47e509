package meltica_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// The pools' ownership contract as a host lives it (DESIGN.md contract 1;
// dispatch: Publish "returns it to the pool before returning, on every
// path … a *NotPooledError (and does not Put) for an event not checked out
// of the dispatcher's pool — a clone, one made with new, one already
// returned, or one of another pool — and ErrClosed once Close has begun";
// the clones "belong to the subscriber, which may keep them"). A host's
// mistakes — publishing one event twice, publishing the clone its handler
// got, a value copy, an event of another set of pools, a Put of a clone —
// are refused with the documented error or panic, deliver nothing twice,
// and leave every pool's count exact: Shutdown finds nothing missing. A
// clone kept after its handler returned keeps its values while the pooled
// original is reused. In both pool modes.
func TestS35ctHostMistakesWithPooledEventsAreRefusedAndCostNothing(t *testing.T) {
	for name, opts := range map[string]*pool.Options{"stacks off": nil, "stacks on": {CaptureStacks: true}} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			pools := schema.NewPools(opts)
			other := schema.NewPools(opts)
			d := dispatch.New(pools.Events, nil)
			var mu sync.Mutex
			var kept []*schema.CanonicalEvent
			sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
				mu.Lock()
				kept = append(kept, ev)
				mu.Unlock()
			}})
			require.NoError(t, err)
			got := func() []*schema.CanonicalEvent {
				s35ctIdle(t, sub)
				mu.Lock()
				defer mu.Unlock()
				return append([]*schema.CanonicalEvent(nil), kept...)
			}
			trade := func(price string, raw string) func(*schema.CanonicalEvent) {
				return func(ev *schema.CanonicalEvent) {
					ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventTrade
					ev.Trade.Price, ev.Trade.Qty, ev.Trade.ID = schema.MustParseDecimal(price), schema.MustParseDecimal("1"), schema.MustID(price)
					ev.Raw = append(ev.Raw[:0], raw...)
				}
			}

			ev := s35ctEvent(t, pools, trade("100", `{"p":"100"}`))
			require.NoError(t, d.Publish(ctx, ev))
			err = d.Publish(ctx, ev) // the host publishes it again
			require.ErrorIs(t, err, dispatch.ErrNotPooled, "an event already returned")
			var np *dispatch.NotPooledError
			assert.True(t, errors.As(err, &np), "a *NotPooledError: %v", err)
			require.Len(t, got(), 1, "the second Publish delivered nothing")

			first := got()[0]
			assert.ErrorIs(t, d.Publish(ctx, first), dispatch.ErrNotPooled, "the clone a handler got")
			assert.Panics(t, func() { pools.Events.Put(first) }, "Put of a clone")

			ev = s35ctEvent(t, pools, trade("101", `{"p":"101"}`))
			cp := *ev //nolint:govet // a value copy of a checked-out event is the mistake under test
			assert.ErrorIs(t, d.Publish(ctx, &cp), dispatch.ErrNotPooled, "a value copy")
			require.NoError(t, d.Publish(ctx, ev), "the original itself is still the host's to publish")

			foreign := s35ctEvent(t, other, trade("102", `{"p":"102"}`))
			assert.ErrorIs(t, d.Publish(ctx, foreign), dispatch.ErrNotPooled, "an event of another pool")
			other.Events.Put(foreign)

			for i := range 50 { // the pooled originals reused under the kept clones
				require.NoError(t, d.Publish(ctx, s35ctEvent(t, pools, trade("2"+string(rune('0'+i%10)), `{"p":"overwritten, longer than before"}`))))
			}
			all := got()
			require.Len(t, all, 52, "each publish delivered once")
			assert.True(t, all[0].Trade.Price.Equal(schema.MustParseDecimal("100")), "kept clone: %s", all[0].Trade.Price)
			assert.Equal(t, `{"p":"100"}`, string(all[0].Raw), "a kept clone's raw bytes are its own")
			assert.True(t, all[1].Trade.Price.Equal(schema.MustParseDecimal("101")))
			assert.Equal(t, `{"p":"101"}`, string(all[1].Raw))

			require.NoError(t, d.Close(ctx))
			ev = s35ctEvent(t, pools, trade("103", ""))
			assert.ErrorIs(t, d.Publish(ctx, ev), dispatch.ErrClosed)
			assert.Zero(t, pools.Events.Stats().InUse, "Publish after Close returned the event: %+v", pools.Events.Stats())
			st := pools.Events.Stats()
			assert.Equal(t, st.Gets, st.Puts, "%+v", st)
			require.NoError(t, pools.Shutdown(ctx))
			require.NoError(t, other.Shutdown(ctx))
		})
	}
}
