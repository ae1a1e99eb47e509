package dispatch

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// panicky is a host's slog.Handler with a bug: every record panics.
type panicky struct{}

func (panicky) Enabled(context.Context, slog.Level) bool  { return true }
func (panicky) Handle(context.Context, slog.Record) error { panic("logger bug") }
func (h panicky) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h panicky) WithGroup(string) slog.Handler           { return h }

// TestS30PanickingLoggerInPublish: Options.Logger is host code, called on
// the publisher's goroutine inside Publish when a subscription starts to
// drop (ordered lane full) or its critical lane goes over its bound. A
// panic in it unwound Publish half-way: the subscriptions after the slow
// one never got the event — an execution report lost (contract 3) — the
// pooled original was never returned (contract 1), and the socket
// reader's goroutine died. Recovered as OnCriticalOverflow's panic is:
// every subscriber gets every event, the pool balances, and the panic is
// counted (Stats.Panics of the subscription reported on).
func TestS30PanickingLoggerInPublish(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  schema.EventType
		opts SubscribeOptions
	}{
		{"critical lane over its bound", schema.EventExecReport, SubscribeOptions{CriticalBound: 1}},
		{"ordered lane dropping", schema.EventTrade, SubscribeOptions{OrderedBound: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newEventPool(8)
			d := New(p, &Options{Logger: slog.New(panicky{})})
			stuck := newGatedRecorder()
			o := tc.opts
			o.Handler = stuck.handle
			slow, err := d.Subscribe(Filter{}, &o)
			require.NoError(t, err)
			later := &recorder{}
			_, err = d.Subscribe(Filter{}, &SubscribeOptions{Handler: later.handle})
			require.NoError(t, err)
			publish(t, d, p, bin, "BTC-USDT", tc.typ, 1)
			stuck.waitEntered(t)
			const n = 6
			for i := uint64(2); i <= n; i++ {
				require.NotPanics(t, func() {
					require.NoError(t, d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", tc.typ, i)))
				})
			}
			require.Zero(t, p.Stats().InUse, "a pooled original not returned")
			eventually(t, func() bool { return len(later.got()) == n }, "the subscriber after the slow one got every event")
			require.Positive(t, slow.Stats().Panics, "the logger's panic not counted")
			stuck.open()
			closeDispatcher(t, d)
		})
	}
}

// TestS30PanickingLoggerOnSubscriber: the records a subscription's own
// goroutine writes — its handler's panic (logged with its stack), its
// catching up after a slow spell — went through the host's Logger
// unguarded: a panic in it, raised inside the recovery of the handler's
// panic, ended the goroutine unrecovered, and with it the host process.
// Recovered and counted: the subscription goes on delivering.
func TestS30PanickingLoggerOnSubscriber(t *testing.T) {
	p := newEventPool(8)
	d := New(p, &Options{Logger: slog.New(panicky{})})
	got := make(chan uint64, 16)
	gate := make(chan struct{})
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{OrderedBound: 1, Handler: func(ev *schema.CanonicalEvent) {
		if ev.SeqProvider == 1 {
			<-gate
			panic("strategy bug")
		}
		got <- ev.SeqProvider
	}})
	require.NoError(t, err)
	for i := uint64(1); i <= 4; i++ { // 2 and 3 dropped: a slow spell, logged as it ends
		publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, i)
	}
	close(gate)
	for {
		if seq := <-got; seq == 4 {
			break
		}
	}
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 5)
	require.Equal(t, uint64(5), <-got, "delivery stopped")
	require.GreaterOrEqual(t, s.Stats().Panics, uint64(2), "the handler's panic and the logger's")
	closeDispatcher(t, d)
}
