package dispatch

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS30SubscribeChurnInsideHandler: a handler that subscribes and
// unsubscribes on every event (past maxGone Unsubscribes several times, so
// the routes are swept on its goroutine) while a feed of quotes on many
// streams and execution reports goes on, and then Close while another
// handler is blocked. The churning subscription gets every execution
// report in order, the routes stop holding the subscriptions gone, Close
// gives up on the blocked handler with a CloseError naming it, and every
// pooled event is back.
func TestS30SubscribeChurnInsideHandler(t *testing.T) {
	p := newEventPool(8)
	d := New(p, nil)
	var reports []uint64 // the churning handler's; read once it is idle
	var churnErr error
	churn, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		if ev.Type == schema.EventExecReport {
			reports = append(reports, ev.SeqProvider)
		}
		s, err := d.Subscribe(Filter{Symbols: []string{ev.Symbol}}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
		if err == nil {
			err = d.Unsubscribe(s)
		}
		if err != nil && !errors.Is(err, ErrClosed) && churnErr == nil {
			churnErr = err
		}
	}})
	require.NoError(t, err)
	block, entered := make(chan struct{}), make(chan struct{}, 1)
	_, err = d.Subscribe(Filter{Types: []schema.EventType{schema.EventTrade}}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-block
	}})
	require.NoError(t, err)
	const n = 1000
	var want []uint64
	for i := uint64(1); i <= n; i++ {
		if i%4 == 0 {
			publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, i)
			want = append(want, i)
			continue
		}
		publish(t, d, p, bin, "S-"+strconv.Itoa(int(i%97)), schema.EventBBO, i)
	}
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, n+1)
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	eventually(t, churn.Idle, "the churning handler went through the feed")
	<-d.sweeping() // the sweep runs on a goroutine of the dispatcher's
	held := map[*Subscription]bool{}
	ix := d.idx.Load()
	for _, g := range [2]*routes{ix.cur.Load(), ix.old} {
		if g != nil {
			g.m.Range(func(_, v any) bool {
				for _, s := range v.(*route).subs {
					if s.unlisted() {
						held[s] = true
					}
				}
				return true
			})
		}
	}
	require.Less(t, len(held), maxGone, "the routes kept the subscriptions gone past a sweep")
	short, cancelShort := context.WithTimeout(ctx, time.Millisecond)
	defer cancelShort()
	var ce *CloseError
	require.ErrorAs(t, d.Close(short), &ce, "Close waited for a blocked handler past its context")
	require.GreaterOrEqual(t, ce.Running, 1, "the blocked handler (and goroutines of subscriptions gone not yet exited)")
	close(block)
	<-churn.Done()
	require.NoError(t, churnErr)
	require.Equal(t, want, reports, "execution reports lost or reordered")
	require.Zero(t, p.Stats().InUse)
	require.NoError(t, d.Close(ctx))
}
