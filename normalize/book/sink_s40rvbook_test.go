package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s40rvFunc is a func adapter to Sink (as normalize.SinkFunc): not
// comparable.
type s40rvFunc func(ctx context.Context, ev *schema.CanonicalEvent) error

func (f s40rvFunc) Publish(ctx context.Context, ev *schema.CanonicalEvent) error { return f(ctx, ev) }

// s40rvWrap is a Sink of a comparable type (a struct value) holding a
// Sink: comparable by its type, not by its value where that Sink is a
// func adapter.
type s40rvWrap struct {
	next Sink
	tag  string
}

func (w s40rvWrap) Publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	return w.next.Publish(ctx, ev)
}

// sameSink compared two Sinks of one comparable type with ==: a struct
// value holding a func adapter (a Sink wrapping normalize.SinkFunc) is
// of a comparable type, and == panicked on the func inside — Books.Add of
// the replacement panicked. Such Sinks are now taken for two others
// (as func adapters are): the replaced book's part goes through its own.
func TestS40rvbookSameSinkOfAComparableTypeHoldingAFunc(t *testing.T) {
	events, _, books := s39books(t)
	rec := &recSink{events: events}
	fn := s40rvFunc(rec.Publish)
	sinkA, sinkB := s40rvWrap{next: fn, tag: "a"}, s40rvWrap{next: fn, tag: "a"}
	require.NotPanics(t, func() { _ = sameSink(sinkA, sinkB) })
	require.False(t, sameSink(sinkA, sinkB), "a func inside: not known to be one Sink")
	ptr := &recSink{events: events}
	require.True(t, sameSink(s40rvWrap{next: ptr}, s40rvWrap{next: ptr}))
	require.False(t, sameSink(s40rvWrap{next: ptr}, s40rvWrap{next: &recSink{events: events}}))
	require.True(t, sameSink(ptr, ptr))
	require.False(t, sameSink(ptr, &recSink{events: events}), "two instances of one type: two Sinks")

	s40live(t, events, books, sinkA, nil)
	nb, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sinkB, Events: events})
	require.NoError(t, err)
	require.NotPanics(t, func() { books.Add(nb) })
	require.Equal(t, []string{"100/101", "0/0"}, s31quoteBBOs(rec))
	require.Equal(t, []string{ReasonReplaced}, s40gaps(rec))
}
