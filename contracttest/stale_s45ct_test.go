package contracttest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// Contract 4, "never silently stale" (README; session doc "Lost market
// connections"; dispatch doc "Lanes", Coalescing): when the market
// connection is lost, a slow subscriber's quote still queued from before
// the loss is not delivered after it as if it were the current state: the
// loss's gap marker (GapType EventUnknown, GapSource GapVenue) replaces it,
// and the subscriber hears of the loss. Against the simulated venue, through
// a session; the client's clock is the test's, so the redial waits.
func TestS45ctLostConnectionDropsQueuedQuotes(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1000})
	defer v.Close()

	g := newGate()
	var rec recorder
	var sub *dispatch.Subscription
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"bookTicker"},
		Client:    wsclient.Options{Clock: newFakeClock()},
		Subscribe: func(d *dispatch.Dispatcher) (err error) {
			sub, err = d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBBO}},
				&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { g.wait(); rec.add(ev) }})
			return err
		},
	})
	require.NoError(t, err)
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		assert.NoError(t, s.Close(closeCtx), "Close and its leak check")
	}()
	defer g.release() // before Close, which waits for the handler

	g.held(t) // stuck on the first quote
	require.Eventually(t, func() bool {
		st := sub.Stats()
		return st.Coalescing == 1 && st.Coalesced > 0
	}, waitFor, time.Millisecond, "no quote queued behind the stuck one")
	v.Pause(true)
	require.Positive(t, v.Inject(venuesim.FaultClose))
	require.Eventually(t, func() bool {
		st := sub.Stats()
		return st.Coalescing == 0 && st.Critical > 0
	}, waitFor, time.Millisecond, "the quote from before the loss is still queued: %+v", sub.Stats())

	g.release()
	drained(t, sub)
	got := rec.events()
	require.NotEmpty(t, got)
	after := got[1:] // what came after the quote the handler was stuck on
	require.NotEmpty(t, after, "the loss was never announced")
	marker := after[0]
	require.Equal(t, schema.EventGap, marker.Type, "a %s from before the loss came first", marker.Type)
	c := marker.ControlOrZero()
	assert.Equal(t, schema.EventUnknown, c.GapType)
	assert.Equal(t, schema.GapVenue, c.GapSource)
	for _, ev := range after[1:] {
		assert.NotEqual(t, schema.EventBBO, ev.Type, "a quote delivered after the loss with no connection to bring it")
	}
}
