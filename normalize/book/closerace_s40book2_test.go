package book

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// onceSink records what it is given; the first event after armed it
// keeps (not back to the pool) and runs hook with, once.
type onceSink struct {
	recSink
	mu    sync.Mutex
	armed bool
	hook  func(ev *schema.CanonicalEvent)
}

func (s *onceSink) Publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	s.mu.Lock()
	hook := s.hook
	if !s.armed {
		hook = nil
	}
	s.armed = false
	s.mu.Unlock()
	if hook == nil {
		return s.recSink.Publish(ctx, ev)
	}
	s.recSink.mu.Lock()
	s.got = append(s.got, ev.Clone())
	s.recSink.mu.Unlock()
	hook(ev)
	return nil
}

// Books.Close running between the swap and adopt of a racing Add (here
// from within the replaced book's first withdrawal, published to its own
// Sink, the pool then exhausted): Close took its list — the new book,
// closed then, its handed-off books none yet — and adopt appended the
// replaced book, still owing its own subscribers, to a book already
// closed: its retry timer stayed armed after the host shut down, closed
// by nothing. Now adopt closes (never waiting: Add has no ctx) what it
// hands a book already shut.
func TestS40book2CloseBetweenSwapAndAdoptClosesTheHandingBook(t *testing.T) {
	clk := newStepClock()
	events, _, books := s39books(t)
	sinkA := &onceSink{recSink: recSink{events: events}}
	sinkB := &recSink{events: events}
	o := &Options{Clock: clk, RetryInterval: time.Second}
	a := s40live(t, events, books, sinkA, o)
	b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sinkB, Events: events, Clock: clk, RetryInterval: time.Second})
	require.NoError(t, err)

	held := takeAll(events)
	events.Put(held[0]) // one event: a's first part goes out, the rest not
	held = held[1:]
	sinkA.mu.Lock()
	sinkA.armed = true
	sinkA.hook = func(ev *schema.CanonicalEvent) {
		held = append(held, ev)
		held = append(held, takeAll(events)...)
		books.Close()
	}
	sinkA.mu.Unlock()
	books.Add(b)
	b.mu.Lock()
	shut, n := b.shut, len(b.handoffs)
	b.mu.Unlock()
	require.True(t, shut, "Books.Close did not run within Add")
	a.mu.Lock()
	armed := a.retryArmed
	a.mu.Unlock()
	putAll(events, held)
	require.False(t, armed, "the handing book's retry timer armed after Books.Close")
	require.Zero(t, n, "a closed book still to close the books it replaced")
	clk.step(time.Minute)
	require.Zero(t, events.Stats().InUse, "pooled events out")
}
