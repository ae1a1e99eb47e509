package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// recSink records a clone of every event and puts the original back, as the
// dispatcher would.
type recSink struct {
	events *pool.Pool[*schema.CanonicalEvent]
	got    []*schema.CanonicalEvent
	err    error
}

func (s *recSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.got = append(s.got, ev.Clone())
	s.events.Put(ev)
	return s.err
}

// putSink only puts events back: for allocation tests and benchmarks.
type putSink struct {
	events *pool.Pool[*schema.CanonicalEvent]
	n      int
}

func (s *putSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.n++
	s.events.Put(ev)
	return nil
}

func newRecParser(t testing.TB, opts *Options) (*Parser, *recSink, *pool.Pool[*schema.CanonicalEvent]) {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewBinance(events, sink, opts)
	t.Cleanup(func() { require.Zero(t, events.Stats().InUse, "events not returned to the pool") })
	return p, sink, events
}

func dec(s string) schema.Decimal { return schema.MustParseDecimal(s) }

// requireDigits asserts a decimal's exact text, trailing zeros included.
func requireDigits(t testing.TB, want string, got schema.Decimal, msg ...any) {
	t.Helper()
	require.Equal(t, want, got.String(), msg...)
}
