package book

import (
	"slices"

	"github.com/meltica/meltica/schema"
)

// side is one side of a book: levels sorted worst first, best last, so that
// the changes that happen most — near the top — move the fewest levels. It
// is a plain slice keyed by price: no map, no per-level allocation; once its
// capacity has grown to the book's depth a change allocates nothing.
type side struct {
	lv  []schema.Level
	bid bool // bids: ascending prices (best = highest last); asks: descending
}

// search returns the index where price is or would be inserted, and whether
// it is there.
func (s *side) search(price schema.Decimal) (int, bool) {
	lo, hi := 0, len(s.lv)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := s.lv[m].Price.Cmp(price)
		if !s.bid {
			c = -c
		}
		switch {
		case c < 0:
			lo = m + 1
		case c > 0:
			hi = m
		default:
			return m, true
		}
	}
	return lo, false
}

// set puts a level in place (the venue's digits with it: checksums need the
// latest text of a level), or deletes it when qty is zero. It reports
// whether the top of the side may have changed.
func (s *side) set(price, qty schema.Decimal) bool {
	i, found := s.search(price)
	top := i >= len(s.lv)-1
	switch {
	case qty.IsZero():
		if !found {
			return false
		}
		s.lv = append(s.lv[:i], s.lv[i+1:]...)
	case found:
		s.lv[i] = schema.Level{Price: price, Qty: qty}
	default:
		s.lv = append(s.lv, schema.Level{})
		copy(s.lv[i+1:], s.lv[i:])
		s.lv[i] = schema.Level{Price: price, Qty: qty}
		top = i >= len(s.lv)-1
	}
	return top
}

// truncate keeps the best depth levels (depth ≤ 0 keeps all).
func (s *side) truncate(depth int) {
	if depth > 0 && len(s.lv) > depth {
		n := copy(s.lv, s.lv[len(s.lv)-depth:])
		s.lv = s.lv[:n]
	}
}

// within returns how many levels are at limit or better.
func (s *side) within(limit schema.Decimal) int {
	i, _ := s.search(limit)
	return len(s.lv) - i
}

// len is the number of levels.
func (s *side) len() int { return len(s.lv) }

// at returns the level of rank i, 0 being the best.
func (s *side) at(i int) schema.Level { return s.lv[len(s.lv)-1-i] }

// best returns the best level, or false when the side is empty.
func (s *side) best() (schema.Level, bool) {
	if len(s.lv) == 0 {
		return schema.Level{}, false
	}
	return s.lv[len(s.lv)-1], true
}

// appendTop appends the best n levels, best first, to dst.
func (s *side) appendTop(dst []schema.Level, n int) []schema.Level {
	n = min(n, len(s.lv))
	for i := range n {
		dst = append(dst, s.at(i))
	}
	return dst
}

// shrink gives the side a slice of its own length when its capacity is
// past limit.
func (s *side) shrink(limit int) {
	if cap(s.lv) > limit {
		s.lv = slices.Clone(s.lv)
	}
}

// clear drops every level and keeps the capacity.
func (s *side) clear() { s.lv = s.lv[:0] }

// load replaces the side with levels given best first, as venues send
// them. Levels out of order, repeated or with a zero quantity leave the
// side as setting each in turn would — the last level of a price wins, a
// zero deletes — sorted in O(n log n), not set one by one, which moves
// the side behind each level: O(n²) for a large side in random order.
func (s *side) load(levels []schema.Level) {
	s.lv = s.lv[:0]
	sorted := true
	for i := len(levels) - 1; i >= 0; i-- {
		l := levels[i]
		if l.Qty.IsZero() {
			sorted = false
			continue
		}
		if n := len(s.lv); n > 0 {
			c := s.lv[n-1].Price.Cmp(l.Price)
			if (s.bid && c >= 0) || (!s.bid && c <= 0) {
				sorted = false
			}
		}
		s.lv = append(s.lv, l)
	}
	if sorted {
		return
	}
	cmp := s.cmp()
	s.lv = append(s.lv[:0], levels...)
	slices.SortFunc(s.lv, cmp)
	for i := 1; i < len(s.lv); i++ {
		if s.lv[i-1].Price.Cmp(s.lv[i].Price) == 0 {
			// A price repeated: which level of it came last is lost. A
			// stable sort of the levels as given keeps it last.
			s.lv = append(s.lv[:0], levels...)
			slices.SortStableFunc(s.lv, cmp)
			break
		}
	}
	w := 0
	for i, l := range s.lv {
		if i+1 < len(s.lv) && l.Price.Cmp(s.lv[i+1].Price) == 0 {
			continue // a later level of the price replaces it
		}
		if !l.Qty.IsZero() {
			s.lv[w] = l
			w++
		}
	}
	s.lv = s.lv[:w]
}

// cmp orders levels as the side keeps them: worst first.
func (s *side) cmp() func(a, b schema.Level) int {
	if s.bid {
		return func(a, b schema.Level) int { return a.Price.Cmp(b.Price) }
	}
	return func(a, b schema.Level) int { return b.Price.Cmp(a.Price) }
}

// mergeAt is the least number of levels a diff applies by merge rather
// than by set, level by level: set moves the side behind each level, so a
// diff of n levels at prices across a side of m costs O(n × m) moves — a
// whole-book venue's burst of tens of thousands of levels held the book
// and its reader for seconds (BenchmarkLargeDiff).
const mergeAt = 64

// merge applies the levels d (in any order) as setting each in turn
// would — the last level of a price wins, a zero deletes — in
// O(n log n + m). It sorts d in place: d is the caller's scratch.
func (s *side) merge(d []schema.Level) {
	cmp := s.cmp()
	slices.SortStableFunc(d, cmp) // a price's levels stay in the order given: the last wins
	w := 0
	for i, l := range d {
		if i+1 < len(d) && l.Price.Cmp(d[i+1].Price) == 0 {
			continue
		}
		d[w] = l
		w++
	}
	d = d[:w]
	// Merge from the back into the side grown by len(d): the write index
	// never falls below the side's read index.
	n := len(s.lv)
	s.lv = slices.Grow(s.lv, len(d))[:n+len(d)]
	i, j, k := n-1, len(d)-1, n+len(d)-1
	for j >= 0 {
		if i >= 0 {
			if c := cmp(s.lv[i], d[j]); c > 0 {
				s.lv[k] = s.lv[i]
				i, k = i-1, k-1
				continue
			} else if c == 0 {
				i-- // replaced or deleted by d[j]
			}
		}
		if !d[j].Qty.IsZero() {
			s.lv[k] = d[j]
			k--
		}
		j--
	}
	// s.lv[:i+1] stands; the merged rest is s.lv[k+1:].
	m := copy(s.lv[i+1:], s.lv[k+1:])
	s.lv = s.lv[:i+1+m]
}
