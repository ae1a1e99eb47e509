package dispatch

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS25PanickedReportIsSurfaced: the one event a panicking handler
// did not finish is not redelivered — a handler that panics half-way
// through a fill may already have booked it, and a retry would book it
// twice (the reason JetStream bounds redeliveries with MaxDeliver and
// then only advises) — and it is not lost in silence either: an
// execution report is what the host must reconcile. The subscription's
// OnPanic gets the event itself (the host's to keep) and the panic
// value, and the Error record names the event (type, venue, symbol), so
// a host can find the order again; delivery goes on with the next event.
func TestS25PanickedReportIsSurfaced(t *testing.T) {
	p := newEventPool(8)
	var logs bytes.Buffer
	d := New(p, &Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	type failed struct {
		ev *schema.CanonicalEvent
		v  any
	}
	surfaced := make(chan failed, 4)
	delivered := make(chan *schema.CanonicalEvent, 4)
	s, err := d.Subscribe(Filter{Types: []schema.EventType{schema.EventExecReport}}, &SubscribeOptions{
		Handler: func(ev *schema.CanonicalEvent) {
			if ev.SeqProvider == 1 {
				panic("strategy bug")
			}
			delivered <- ev
		},
		OnPanic: func(ev *schema.CanonicalEvent, v any) { surfaced <- failed{ev, v} },
	})
	require.NoError(t, err)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 1)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 2)
	f := <-surfaced
	require.Equal(t, "strategy bug", f.v)
	require.Equal(t, schema.EventExecReport, f.ev.Type)
	require.Equal(t, uint64(1), f.ev.SeqProvider)
	require.Equal(t, uint64(2), (<-delivered).SeqProvider, "delivery stopped after the panic")
	require.Empty(t, delivered, "the failed report was redelivered")
	require.Equal(t, uint64(1), s.Stats().Panics)
	closeDispatcher(t, d)
	require.Contains(t, logs.String(), "event_type=exec_report")
	require.Contains(t, logs.String(), "symbol=BTC-USDT")
}

// TestS25PanickingOnPanic: a panic in OnPanic itself is recovered and
// logged like the handler's; the subscription goes on.
func TestS25PanickingOnPanic(t *testing.T) {
	p := newEventPool(8)
	d := New(p, nil)
	delivered := make(chan uint64, 4)
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{
		Handler: func(ev *schema.CanonicalEvent) {
			if ev.SeqProvider == 1 {
				panic("strategy bug")
			}
			delivered <- ev.SeqProvider
		},
		OnPanic: func(*schema.CanonicalEvent, any) { panic("and its hook too") },
	})
	require.NoError(t, err)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 1)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 2)
	require.Equal(t, uint64(2), <-delivered)
	require.Equal(t, uint64(2), s.Stats().Panics)
	closeDispatcher(t, d)
}
