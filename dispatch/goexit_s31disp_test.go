package dispatch

import (
	"context"
	"log/slog"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// exiting is a host's slog.Handler that ends its goroutine (as t.FailNow
// in a test's logger would).
type exiting struct{}

func (exiting) Enabled(context.Context, slog.Level) bool  { return true }
func (exiting) Handle(context.Context, slog.Record) error { runtime.Goexit(); return nil }
func (h exiting) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h exiting) WithGroup(string) slog.Handler           { return h }

// TestS31GoexitInPublishReturnsTheEvent: host code Publish calls — the
// Logger and OnCriticalOverflow — may end the publisher's goroutine with
// runtime.Goexit (t.FailNow in a test's callback does). A panic there was
// recovered, but Goexit cannot be: it ran the deferred calls only, and
// Publish put the pooled original back with a plain call after fanning
// out, so the event stayed checked out and Shutdown reported a leak the
// SDK caused (contract 1); and the subscribers after the one reported on
// never got the event — an execution report lost (contract 3).
func TestS31GoexitInPublishReturnsTheEvent(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts func(*Options)
		typ  schema.EventType
		sub  SubscribeOptions
	}{
		{"OnCriticalOverflow", func(o *Options) {
			o.OnCriticalOverflow = func(*Subscription, Stats) { runtime.Goexit() }
		}, schema.EventExecReport, SubscribeOptions{CriticalBound: 1}},
		{"Logger, critical lane over its bound", func(o *Options) { o.Logger = slog.New(exiting{}) },
			schema.EventExecReport, SubscribeOptions{CriticalBound: 1}},
		{"Logger, ordered lane dropping", func(o *Options) { o.Logger = slog.New(exiting{}) },
			schema.EventTrade, SubscribeOptions{OrderedBound: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newEventPool(8)
			var o Options
			tc.opts(&o)
			d := New(p, &o)
			stuck := newGatedRecorder()
			so := tc.sub
			so.Handler = stuck.handle
			_, err := d.Subscribe(Filter{}, &so)
			require.NoError(t, err)
			later := &recorder{}
			_, err = d.Subscribe(Filter{}, &SubscribeOptions{Handler: later.handle})
			require.NoError(t, err)
			publish(t, d, p, bin, "BTC-USDT", tc.typ, 1)
			stuck.waitEntered(t)
			publish(t, d, p, bin, "BTC-USDT", tc.typ, 2) // queued: the lane holds its bound
			exited := make(chan struct{})
			go func() {
				defer close(exited)
				_ = d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", tc.typ, 3))
			}()
			<-exited
			require.Zero(t, p.Stats().InUse, "the pooled original of the publish the host's Goexit ended is still out")
			eventually(t, func() bool { return len(later.got()) == 3 }, "the subscriber after the one reported on lost the event the host's Goexit interrupted")
			close(stuck.gate)
			closeDispatcher(t, d)
		})
	}
}
