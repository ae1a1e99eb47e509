package meltica_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// A host handler that panics loses no execution report (dispatch, "A
// handler that panics": "recovered …, counted ([Stats.Panics]) …, the
// event counts as delivered, and the subscription goes on with its next
// event. The publisher and the other subscribers never notice … OnPanic
// gets the event itself, so that a host can reconcile an execution
// report"). 300 reports of 100 orders, a handler that panics on every
// third one, beside a subscriber that never reads its channel and one of
// market data held in its handler: each report reaches the host exactly
// once, by its handler or by OnPanic, in publish order; Stats.Panics is
// the number of panics; the subscriber that never read still holds every
// report (critical: never dropped) and gets them all in order when it
// reads at last; the held one never slowed anyone.
func TestS35ctPanickingHandlerLosesNoReport(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	var mu sync.Mutex
	var got []string
	var panicked []any
	sub, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, &dispatch.SubscribeOptions{
		Handler: func(ev *schema.CanonicalEvent) {
			if ev.SeqProvider%3 == 0 {
				panic(fmt.Sprintf("host bug at %d", ev.SeqProvider))
			}
			mu.Lock()
			got = append(got, fmt.Sprintf("%d %s", ev.SeqProvider, ev.Exec.ClientOrderID))
			mu.Unlock()
		},
		OnPanic: func(ev *schema.CanonicalEvent, v any) {
			mu.Lock()
			got = append(got, fmt.Sprintf("%d %s", ev.SeqProvider, ev.Exec.ClientOrderID))
			panicked = append(panicked, v)
			mu.Unlock()
		},
	})
	require.NoError(t, err)
	idle, err := d.Subscribe(dispatch.Filter{}, nil) // never read
	require.NoError(t, err)
	release := make(chan struct{})
	held, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) { <-release }})
	require.NoError(t, err)

	var want []string
	for n := uint64(1); n <= 300; n++ {
		cid := fmt.Sprintf("o-%d", n%100)
		require.NoError(t, d.Publish(ctx, s35ctEvent(t, pools, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventExecReport, n
			x := ev.UseExec()
			x.ClientOrderID, x.ExecType, x.Status = schema.MustID(cid), schema.ExecNew, schema.StatusNew
		})))
		want = append(want, fmt.Sprintf("%d %s", n, cid))
		require.NoError(t, d.Publish(ctx, s35ctEvent(t, pools, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, n
			ev.Trade.Price, ev.Trade.Qty = schema.MustParseDecimal("1"), schema.MustParseDecimal("1")
		})))
	}
	s35ctIdle(t, sub)
	mu.Lock()
	assert.Equal(t, want, got, "every report once, in order, by the handler or OnPanic")
	assert.Len(t, panicked, 100)
	mu.Unlock()
	st := sub.Stats()
	assert.Equal(t, uint64(100), st.Panics, "%+v", st)
	assert.Equal(t, uint64(300), st.Delivered, "a report the handler panicked on counts as delivered: %+v", st)
	ist := idle.Stats()
	assert.Equal(t, 300, ist.Critical+ist.InHand, "the reader that never read holds every report, queued or in hand: %+v", ist)
	if ist.InHand == 1 {
		assert.True(t, ist.InHandType.Critical(), "the report in hand is counted as one: %+v", ist)
	}
	assert.Zero(t, pools.Events.Stats().InUse, "the originals went back whatever the subscribers do")

	close(release)
	s35ctIdle(t, held)
	var late []uint64 // the reader that never read reads at last: every report, in order, before the trades
	for len(late) < 300 {
		select {
		case ev := <-idle.C():
			if ev.Type == schema.EventExecReport {
				late = append(late, ev.SeqProvider)
			}
		case <-time.After(s27ctWait):
			t.Fatalf("the late reader got %d reports", len(late))
		}
	}
	for i, n := range late {
		require.Equal(t, uint64(i+1), n)
	}
	unsubscribed := make(chan error, 1)
	go func() { unsubscribed <- d.Unsubscribe(idle) }()
	select {
	case err := <-unsubscribed:
		require.NoError(t, err)
	case <-time.After(s27ctWait):
		t.Fatal("Unsubscribe of a channel subscription nobody reads hung")
	}
	<-idle.Done()
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}
