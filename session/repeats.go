package session

import (
	"sync/atomic"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// repeatsCap is how many of the latest execution reports a connection's
// reader remembers outside a rotation: a new connection's snapshot
// (Kraken's executions, Coinbase's user channel) repeats the latest
// reports of the open orders, delivered before the rotation began.
const repeatsCap = 64

// repeatsWindow is how long after a rotation began (repeats.begin) its
// reports are remembered to find its repeats: its switch comes within
// prepareOverlap (wsclient's RotationOverlap: a Prepare not done by then
// fails the rotation), the drain included, and a copy on the other
// connection within a network's skew of it (answerTimeout, a generous
// one). A report delivered outside every rotation's window is compared
// with nothing and remembered nowhere.
const repeatsWindow = prepareOverlap + answerTimeout

// maxRepeats bounds the reports remembered in one window: an account
// sending more than that in repeatsWindow (over 500 a second) has its
// oldest forgotten first, and a repeat of one forgotten is delivered again
// (never lost). Each takes 504 bytes (seenReport, amd64): 8 MB at the
// bound per private connection, given back at the first report read after
// the window ended (keepRepeats; check runs only on the reader, so a
// connection that reads nothing after a busy window keeps it until then).
// During a window each report is compared with every one remembered from
// the other connection: up to maxRepeats comparisons per report.
const maxRepeats = 1 << 14

// keepRepeats is the capacity kept from one window to the next: a quiet
// account's rotations allocate nothing; a busy one's window beyond it is
// given back to the GC when it ends.
const keepRepeats = 256

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
// Besides the latest repeatsCap reports before it (ring: what a
// snapshot repeats), every report delivered within repeatsWindow of the rotation's begin is
// remembered until its copy comes (a report is sent at most once on each
// connection: then it is forgotten) or the window ends: the bound is the
// rotation's time, not a count a busy account outgrows while the switch
// waits for the old connection's answers (up to drainBound), with
// maxRepeats as a ceiling on memory.
//
// check runs on the connection's reader (a rotation's two connections
// deliver one at a time); begin on the worker that prepares the
// rotation, before anything is sent on the new connection. It allocates
// nothing once its slice has grown to a window's reports.
type repeats struct {
	old, nb atomic.Uint64 // the latest rotation's connections (begin)
	until   atomic.Int64  // the end of its window, on clk (UnixNano); 0 none
	dropped atomic.Uint64 // repeats dropped: OrderStats.Duplicates

	clk  wsclient.Clock         // Client.Clock (set at construction)
	ring [repeatsCap]seenReport // the reader's: the latest reports outside a window
	next int
	seen []seenReport // the reader's: oldest first; conn 0 once its copy came
	head int          // seen[:head] forgotten (the slice is compacted as it fills)
}

// seenReport is a report delivered, and its connection.
type seenReport struct {
	conn   uint64
	symbol string
	exec   schema.Execution
}

// begin: conn nb is to replace conn old; the window opens now.
func (r *repeats) begin(old, nb uint64) {
	r.old.Store(old)
	r.nb.Store(nb)
	r.until.Store(r.clk.Now().Add(repeatsWindow).UnixNano())
}

// check reports whether ev, an execution report read on conn, repeats one
// delivered from the other connection of the latest rotation (counted;
// the caller drops it), else remembers it while the rotation's window is
// open.
func (r *repeats) check(conn uint64, ev *schema.CanonicalEvent) bool {
	until := r.until.Load()
	if until != 0 && r.clk.Now().UnixNano() > until {
		r.until.CompareAndSwap(until, 0) // (a begin meanwhile opened a new window)
		r.forgetAll()
		until = 0
	}
	if until == 0 {
		r.ringed(conn, ev)
		return false
	}
	old, nb := r.old.Load(), r.nb.Load()
	var other uint64
	switch conn {
	case old:
		other = nb
	case nb:
		other = old
	default:
		r.ringed(conn, ev) // a connection of no rotation under way
		return false
	}
	if other != 0 {
		for i := range r.ring {
			e := &r.ring[i]
			if e.conn == other && e.symbol == ev.Symbol && e.exec == ev.Exec {
				r.dropped.Add(1)
				return true
			}
		}
		for i := r.head; i < len(r.seen); i++ {
			e := &r.seen[i]
			if e.conn == other && e.symbol == ev.Symbol && e.exec == ev.Exec {
				e.conn, e.symbol, e.exec = 0, "", schema.Execution{} // its one copy came
				r.trim()
				r.dropped.Add(1)
				return true
			}
		}
	}
	r.remember(conn, ev)
	return false
}

// ringed remembers ev, read on conn outside a rotation's window, among
// the latest repeatsCap.
func (r *repeats) ringed(conn uint64, ev *schema.CanonicalEvent) {
	e := &r.ring[r.next]
	r.next = (r.next + 1) % repeatsCap
	e.conn, e.symbol, e.exec = conn, ev.Symbol, ev.Exec
}

// remember appends ev, read on conn, dropping the oldest past maxRepeats
// and compacting the forgotten ones away as the slice fills.
func (r *repeats) remember(conn uint64, ev *schema.CanonicalEvent) {
	if len(r.seen)-r.head >= maxRepeats {
		r.seen[r.head] = seenReport{}
		r.head++
	}
	if len(r.seen) == cap(r.seen) && r.head > 0 {
		n := copy(r.seen, r.seen[r.head:])
		clear(r.seen[n:])
		r.seen, r.head = r.seen[:n], 0
	}
	r.seen = append(r.seen, seenReport{conn: conn, symbol: ev.Symbol, exec: ev.Exec})
}

// trim forgets the matched reports at the head.
func (r *repeats) trim() {
	for r.head < len(r.seen) && r.seen[r.head].conn == 0 {
		r.head++
	}
	if r.head == len(r.seen) {
		r.seen, r.head = r.seen[:0], 0
	}
}

// forgetAll ends the window: nothing remembered (keepRepeats of the
// capacity kept).
func (r *repeats) forgetAll() {
	if cap(r.seen) > keepRepeats {
		r.seen, r.head = nil, 0
		return
	}
	clear(r.seen)
	r.seen, r.head = r.seen[:0], 0
}
