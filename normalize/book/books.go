package book

import (
	"context"
	"errors"
	"sync"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Books sits between a venue parser and the dispatcher: it is a [Sink] that
// applies every book event to the [Book] of its (venue, symbol) and then
// hands the event on to next, which takes ownership as usual. Connection
// state and gap events reach the books of their venue too, so a lost
// connection invalidates them.
//
// Books is safe for concurrent use. Add the books before events flow; its
// zero value is not usable: build it with NewBooks.
type Books struct {
	next   Sink
	events *pool.Pool[*schema.CanonicalEvent]

	mu      sync.RWMutex
	byKey   map[bookKey]*Book
	byVenue map[schema.Venue][]*Book
}

type bookKey struct {
	venue  schema.Venue
	symbol string
}

// NewBooks returns a router that hands every event on to next, or returns
// it to events when next is nil.
func NewBooks(next Sink, events *pool.Pool[*schema.CanonicalEvent]) *Books {
	return &Books{next: next, events: events, byKey: map[bookKey]*Book{}, byVenue: map[schema.Venue][]*Book{}}
}

// Add routes the events of b's venue and symbol to b, replacing any book of
// the same pair.
func (r *Books) Add(b *Book) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := bookKey{b.rule.Venue, b.symbol}
	if old := r.byKey[k]; old != nil {
		list := r.byVenue[k.venue]
		for i, x := range list {
			if x == old {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		r.byVenue[k.venue] = list
	}
	r.byKey[k] = b
	r.byVenue[k.venue] = append(r.byVenue[k.venue], b)
}

// Book returns the book of a venue and symbol, or nil.
func (r *Books) Book(venue schema.Venue, symbol string) *Book {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byKey[bookKey{venue, symbol}]
}

// Publish applies ev to its book(s), then hands it on. It takes ownership
// of ev in every case; the error joins the book's and the next sink's.
func (r *Books) Publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	var err error
	switch ev.Type {
	case schema.EventBookSnapshot, schema.EventBookUpdate, schema.EventGap:
		r.mu.RLock()
		b := r.byKey[bookKey{ev.Venue, ev.Symbol}]
		r.mu.RUnlock()
		if b != nil {
			err = b.Apply(ctx, ev)
		}
	case schema.EventConnState:
		r.mu.RLock()
		list := r.byVenue[ev.Venue]
		r.mu.RUnlock()
		for _, b := range list {
			err = errors.Join(err, b.Apply(ctx, ev))
		}
	}
	if r.next == nil {
		r.events.Put(ev)
		return err
	}
	return errors.Join(err, r.next.Publish(ctx, ev))
}
