package session

import (
	"sync/atomic"

	"github.com/meltica/meltica/schema"
)

// repeatsCap is how many of the latest execution reports a connection's
// reader remembers to find a rotation's repeats: far more than the
// reports of one overlap (a login and a subscription's round trips).
const repeatsCap = 64

// repeats drops the execution reports a rotation delivers twice. While a
// private connection is replaced make-before-break (wsclient
// Options.Prepare), both connections are subscribed for a moment and the
// venue sends each report on both: each is delivered as it comes, from
// either connection, so a report is delivered twice unless dropped here
// (contract 3 forbids losing one, so neither copy may be dropped blindly:
// the old connection's copy may come after the switch, when the old
// connection delivers nothing more, and the new one's before its
// subscription's answer). A repeat is a report equal in every field
// (symbol and schema.Execution: ids, statuses, quantities, the venue's
// transaction time) to one delivered from the rotation's other
// connection: what a venue sends twice, not two fills (each has its own
// trade id, or, anonymous, its own cumulative quantity). Reports on one
// connection are never compared: outside a rotation nothing changes.
//
// check runs on the connection's reader (a rotation's two connections
// deliver one at a time); begin on the worker that prepares the
// rotation, before anything is sent on the new connection. It allocates
// nothing.
type repeats struct {
	old, nb atomic.Uint64 // the latest rotation's connections (begin)
	dropped atomic.Uint64 // repeats dropped: OrderStats.Duplicates

	ring [repeatsCap]seenReport // the reader's
	next int
}

// seenReport is a report delivered, and its connection.
type seenReport struct {
	conn   uint64
	symbol string
	exec   schema.Execution
}

// begin: conn nb is to replace conn old.
func (r *repeats) begin(old, nb uint64) {
	r.old.Store(old)
	r.nb.Store(nb)
}

// check reports whether ev, an execution report read on conn, repeats one
// delivered from the other connection of the latest rotation (counted;
// the caller drops it), else remembers it.
func (r *repeats) check(conn uint64, ev *schema.CanonicalEvent) bool {
	old, nb := r.old.Load(), r.nb.Load()
	var other uint64
	switch conn {
	case old:
		other = nb
	case nb:
		other = old
	}
	if other != 0 {
		for i := range r.ring {
			e := &r.ring[i]
			if e.conn == other && e.symbol == ev.Symbol && e.exec == ev.Exec {
				r.dropped.Add(1)
				return true
			}
		}
	}
	e := &r.ring[r.next]
	r.next = (r.next + 1) % repeatsCap
	e.conn, e.symbol, e.exec = conn, ev.Symbol, ev.Exec
	return false
}
