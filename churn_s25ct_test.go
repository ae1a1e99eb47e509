package meltica_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// Contract 3 under churn: four publishers (a session's shards, each its
// own connection) publish execution reports and trades at once while
// subscriptions come and go, one handler panics on every event and one
// unsubscribes itself half way. A subscriber of reports that stays gets
// every report of every publisher exactly once, each publisher's in its
// order ("Events of one stream keep their order end to end"; a handler's
// panic is recovered and "the publisher and the other subscribers never
// notice"), and every pooled event is back at the end.
func TestS25ctReportsSurviveSubscriberChurn(t *testing.T) {
	const publishers, reports = 4, 2000
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	var mu sync.Mutex
	last := make([]uint64, publishers)
	var got, disorder int
	stable, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, &dispatch.SubscribeOptions{CriticalBound: 8, Handler: func(ev *schema.CanonicalEvent) {
		mu.Lock()
		defer mu.Unlock()
		p := ev.TraceID
		if ev.SeqProvider != last[p]+1 {
			disorder++
		}
		last[p] = ev.SeqProvider
		got++
	}})
	require.NoError(t, err)
	_, err = d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) { panic("a host's bug") }})
	require.NoError(t, err)
	var self atomic.Pointer[dispatch.Subscription]
	var seen atomic.Int64
	quitter, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {
		if seen.Add(1) == reports {
			if s := self.Load(); s != nil {
				_ = d.Unsubscribe(s)
			}
		}
	}})
	require.NoError(t, err)
	self.Store(quitter)

	stop := make(chan struct{})
	var churn sync.WaitGroup
	churn.Add(1)
	go func() { // subscriptions come and go
		defer churn.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			s, err := d.Subscribe(dispatch.Filter{Symbols: []string{"BTC-USDT"}}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
			if err != nil {
				return
			}
			_ = d.Unsubscribe(s)
		}
	}()
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= reports; i++ {
				for _, typ := range []schema.EventType{schema.EventTrade, schema.EventExecReport} {
					ev, err := pools.Events.Get(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", typ
					ev.SeqProvider, ev.TraceID = uint64(i), uint64(p)
					if err := d.Publish(ctx, ev); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	churn.Wait()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return got >= publishers*reports
	}, time.Minute, time.Millisecond)
	require.NoError(t, d.Close(ctx))
	mu.Lock()
	assert.Equal(t, publishers*reports, got, "every report once")
	assert.Zero(t, disorder, "each publisher's reports in order")
	mu.Unlock()
	select {
	case <-quitter.Done():
	default:
		t.Error("the subscription that unsubscribed itself is not done")
	}
	assert.Zero(t, stable.Stats().Panics)
	require.NoError(t, pools.Shutdown(ctx))
}
