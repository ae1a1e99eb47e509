package meltica_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// s27ctLog keeps the records a slog.Logger is given.
type s27ctLog struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *s27ctLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *s27ctLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Clone())
	l.mu.Unlock()
	return nil
}
func (l *s27ctLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *s27ctLog) WithGroup(string) slog.Handler      { return l }

func (l *s27ctLog) at(level slog.Level) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, r := range l.recs {
		if r.Level != level {
			continue
		}
		m := map[string]string{"msg": r.Message}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
		out = append(out, m)
	}
	return out
}

// A host's callbacks that panic: OnCriticalOverflow's panic "is recovered
// and logged at Error ...: Publish goes on, the event reaches every other
// subscriber and returns to its pool"; OnPanic's panic "is recovered,
// counted in Stats.Panics and logged too"; a merged handler's panic is
// counted in MergedStats.Panics and the subscription goes on.
func TestS27ctPanickingCallbacks(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	log := &s27ctLog{}
	d := dispatch.New(pools.Events, &dispatch.Options{
		Merged:             pools.Merged,
		Logger:             slog.New(log),
		OnCriticalOverflow: func(*dispatch.Subscription, dispatch.Stats) { panic("s27ct: overflow callback") },
	})
	hold := make(chan struct{})
	entered := make(chan struct{}, 1)
	stuck, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{CriticalBound: 1, Handler: func(*schema.CanonicalEvent) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-hold
	}})
	require.NoError(t, err)
	var other atomic.Int64
	_, err = d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) { other.Add(1) }})
	require.NoError(t, err)
	require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventExecReport, schema.VenueBinance, "BTC-USDT", 1)))
	<-entered
	for i := uint64(2); i <= 5; i++ {
		assert.NotPanics(t, func() {
			assert.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventExecReport, schema.VenueBinance, "BTC-USDT", i)))
		})
	}
	assert.Zero(t, pools.Events.Stats().InUse, "every event back in its pool")
	require.Eventually(t, func() bool { return other.Load() == 5 }, s27ctWait, time.Millisecond, "the other subscriber got every report")
	assert.NotEmpty(t, log.at(slog.LevelError), "the callback's panic logged at Error")
	close(hold)

	var onPanic atomic.Int64
	p, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{
		Handler: func(*schema.CanonicalEvent) { panic("s27ct: handler") },
		OnPanic: func(*schema.CanonicalEvent, any) { onPanic.Add(1); panic("s27ct: OnPanic") },
	})
	require.NoError(t, err)
	m, err := d.SubscribeMerged(dispatch.MergedFilter{}, &dispatch.MergedOptions{Handler: func(*schema.MergedEvent) { panic("s27ct: merged") }})
	require.NoError(t, err)
	for i := uint64(1); i <= 2; i++ {
		require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventTrade, schema.VenueBinance, "BTC-USDT", i)))
		me, err := pools.Merged.Get(ctx)
		require.NoError(t, err)
		me.Symbol, me.Type = "BTC-USDT", schema.EventTrade
		require.NoError(t, d.PublishMerged(ctx, me))
	}
	require.Eventually(t, func() bool { return p.Idle() && m.Stats().Delivered == 2 }, s27ctWait, time.Millisecond)
	assert.Equal(t, int64(2), onPanic.Load(), "OnPanic called for each, the subscription went on")
	assert.Equal(t, uint64(4), p.Stats().Panics, "the handler's two panics and OnPanic's two")
	assert.Equal(t, uint64(2), m.Stats().Panics)
	require.NoError(t, d.Close(ctx))
	s27ctClosed(t, stuck.Done(), "the released subscription")
	require.NoError(t, pools.Shutdown(ctx))
}

// Options.Logger: "a subscription that starts dropping market data (Warn,
// once per slow spell, not per drop) and catches up again (Info, with how
// many it dropped) ... Records carry "subscription_id" and "subscriber"
// (SubscribeOptions.Name)".
func TestS27ctSlowSubscriberIsLoggedOncePerSpell(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	log := &s27ctLog{}
	d := dispatch.New(pools.Events, &dispatch.Options{Logger: slog.New(log)})
	h := &s27ctHeld{entered: make(chan struct{}), release: make(chan struct{})}
	sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{OrderedBound: 2, Name: "s27ct-strategy", Handler: h.handle})
	require.NoError(t, err)
	require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventTrade, schema.VenueBinance, "BTC-USDT", 1)))
	<-h.entered
	for i := uint64(2); i <= 30; i++ {
		require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventTrade, schema.VenueBinance, "BTC-USDT", i)))
	}
	h.wait(t, sub)
	assert.Positive(t, sub.Stats().Dropped)
	warns := log.at(slog.LevelWarn)
	require.Len(t, warns, 1, "one Warn for the slow spell, not one per drop: %v", warns)
	assert.Equal(t, "s27ct-strategy", warns[0]["subscriber"])
	assert.Contains(t, warns[0], "subscription_id")
	require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventTrade, schema.VenueBinance, "BTC-USDT", 31)))
	require.Eventually(t, sub.Idle, s27ctWait, time.Millisecond)
	require.NoError(t, d.Close(ctx))
	infos := log.at(slog.LevelInfo)
	require.NotEmpty(t, infos, "catching up is logged at Info")
	assert.Equal(t, "s27ct-strategy", infos[0]["subscriber"])
	require.NoError(t, pools.Shutdown(ctx))
}
