package dispatch

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s33fanFilled is payloadEvent(3, 30) with every field but the header
// and the payload slices set (fillNonZero), or only field i when i ≥ 0.
func s33fanFilled(i int) *schema.CanonicalEvent {
	ev := payloadEvent(3, 30)
	v := reflect.ValueOf(ev).Elem()
	var n int
	for j := range v.NumField() {
		switch v.Type().Field(j).Name {
		case "Header", "Raw":
			continue
		}
		if i < 0 || i == j {
			f := v.Field(j)
			if f.Kind() == reflect.Struct && v.Type().Field(j).Name == "Book" {
				bids, asks := ev.Book.Bids, ev.Book.Asks
				fillNonZero(f, &n)
				ev.Book.Bids, ev.Book.Asks = bids, asks
				continue
			}
			fillNonZero(f, &n)
		}
	}
	return ev
}

// A quote replaced in place (copyInto, the coalescing lane) writes only
// the common fields, the sections the new event uses and the sections the
// old one used: the result must equal a fresh clone of the new event
// whatever the two held. Every field of the event, one at a time, over an
// old event with every field set, and every field set over an old event
// with one: a field added to the event and forgotten by copySections,
// sectionsOf or clearSections fails here.
func TestS33fanCopyIntoReplacesEveryField(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[schema.CanonicalEvent]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if name == "Header" || name == "Raw" {
			continue
		}
		for _, c := range []struct {
			name     string
			old, new *schema.CanonicalEvent
		}{
			{"full-then-one", s33fanFilled(-1), s33fanFilled(i)},
			{"one-then-full", s33fanFilled(i), s33fanFilled(-1)},
		} {
			t.Run(fmt.Sprintf("%s/%s", name, c.name), func(t *testing.T) {
				cl := newClones(c.old, 1)
				dst := cl.take()
				require.True(t, copyInto(dst, c.new, sectionsOf(dst), sectionsOf(c.new)))
				assert.False(t, dst.Pooled())
				assert.Equal(t, unheadered(c.new.Clone()), unheadered(dst))
			})
		}
	}
}

// slotOf returns the slot of stream k, or nil: the tests' look-up in
// Subscription.slots, which is keyed by slotHash.
func (s *Subscription) slotOf(k routeKey) *slot { return s.findSlotLocked(k, slotHash(k)) }

// Streams whose slotHash collides share a table entry, chained: each is
// found by its own key, and taking one out (head, middle, tail) leaves the
// others found; the entry goes with the last.
func TestS33fanSlotsOfOneHashAreChained(t *testing.T) {
	t.Parallel()
	s := &Subscription{slots: make(map[uint64]*slot)}
	keys := []routeKey{
		{venue: bin, symbol: "A", typ: schema.EventBBO},
		{venue: bin, symbol: "B", typ: schema.EventBBO},
		{venue: bin, symbol: "C", typ: schema.EventBBO},
	}
	const h = 7 // one hash for all three, as a collision would give
	sls := make([]*slot, len(keys))
	for i, k := range keys {
		sls[i] = &slot{key: k, hash: h, next: s.slots[h]}
		s.slots[h] = sls[i]
	}
	for i, k := range keys {
		assert.Same(t, sls[i], s.findSlotLocked(k, h))
	}
	assert.Nil(t, s.findSlotLocked(routeKey{venue: bin, symbol: "D", typ: schema.EventBBO}, h))
	gone := make([]bool, len(keys))
	for _, i := range []int{1, 2, 0} { // middle, head (C was pushed last), the last one
		s.unlinkSlotLocked(sls[i])
		gone[i] = true
		for j, k := range keys {
			if gone[j] {
				assert.Nil(t, s.findSlotLocked(k, h))
			} else {
				assert.Same(t, sls[j], s.findSlotLocked(k, h))
			}
		}
	}
	assert.Empty(t, s.slots, "the entry goes with its last slot")
}

// Through a dispatcher: a quote replaced in place while queued is
// delivered as the newer one, with nothing of the older one's sections
// left — here a best bid/offer carrying a Trade section (as a venue
// parser might fill) replaced by one that carries none.
func TestS33fanQuoteReplacedInPlaceKeepsNothingOfTheOld(t *testing.T) {
	p := newEventPool(8)
	d := New(p, nil)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	got := make(chan *schema.CanonicalEvent, 8)
	_, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		got <- ev
		select {
		case entered <- struct{}{}:
			<-release
		default:
		}
	}})
	require.NoError(t, err)
	ctx := context.Background()
	publish := func(seq uint64, trade bool) {
		ev := take(t, p, bin, "BTC-USDT", schema.EventBBO, seq)
		ev.BBO.BidPrice = schema.NewDecimal(int64(seq), 1)
		if trade {
			ev.Trade.Price, ev.Trade.Side = schema.NewDecimal(5, 0), schema.SideBuy
		}
		require.NoError(t, d.Publish(ctx, ev))
	}
	publish(1, false)
	<-entered        // held in the handler with 1
	publish(2, true) // queued
	publish(3, false)
	close(release)
	closeDispatcher(t, d)
	close(got)
	var last *schema.CanonicalEvent
	for ev := range got {
		last = ev
	}
	require.NotNil(t, last)
	assert.Equal(t, uint64(3), last.SeqProvider)
	assert.Equal(t, schema.NewDecimal(3, 1), last.BBO.BidPrice)
	assert.Equal(t, schema.Trade{}, last.Trade, "the replaced quote's Trade section was left behind")
}
