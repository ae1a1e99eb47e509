package main

import (
	"sync"
	"sync/atomic"
)

// subNoter records, once per connection, the subscription sent on it,
// ahead of the connection's first frame: note is called by the
// connection's Connected event and by each of its frames (the event may
// come after the first frame, or never: a full event queue drops it), on
// different goroutines. note returns once the subscription is recorded,
// so that the frame that called it is recorded after it; a frame of the
// connection noted last costs one atomic load.
type subNoter struct {
	record    func(conn uint64, at int64) bool // the recorder's RecordSent of the subscription
	lastNoted atomic.Uint64                    // the fast path: set once the connection's line is recorded
	mu        sync.Mutex                       // orders a note under way before the others
	noted     map[uint64]bool
}

// note records conn's subscription at at unless it is recorded already,
// and reports whether this call recorded it.
func (s *subNoter) note(conn uint64, at int64) (recorded bool) {
	if s.lastNoted.Load() == conn {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.noted[conn] {
		if s.noted == nil {
			s.noted = make(map[uint64]bool)
		}
		s.noted[conn] = true
		recorded = s.record(conn, at)
	}
	s.lastNoted.Store(conn)
	return recorded
}
