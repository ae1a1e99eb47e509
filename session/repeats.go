package session

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// repeatsCap is how many of the latest execution reports a connection's
// reader remembers, in a rotation's window or not: a new connection's snapshot
// (Kraken's executions, Coinbase's user channel) repeats the latest
// reports of the open orders, delivered before the rotation began.
const repeatsCap = 64

// repeatsWindow is how long after a rotation began (repeats.begin) its
// reports are remembered to find its repeats: its switch comes within
// prepareOverlap (wsclient's RotationOverlap: a Prepare not done by then
// fails the rotation), the drain included; the replaced connection then
// stays open prepareOverlap more, delivering every frame, the reports
// too (its grace: wsclient Options.IsData, venueOrders.graceFrom); and a
// copy on the other connection comes within a network's skew of it
// (answerTimeout, a generous one). A report delivered outside every
// rotation's window is compared with nothing and remembered nowhere.
const repeatsWindow = 2*prepareOverlap + answerTimeout

// maxRepeats bounds the reports remembered in one window: an account
// sending more than that in repeatsWindow (over 320 a second) has its
// oldest forgotten first, and a repeat of one forgotten is delivered again
// (never lost). Each takes 424 bytes (seenEntry, amd64) and an index entry:
// under 10 MB at the bound per private connection, given back when the
// window ends on Client.Clock, whether or not a report comes after it
// (repeats.expire).
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
// trade id, or, anonymous, its own cumulative quantity). A report on the
// new connection whose ExecType is ExecOrderStatus and whose other fields
// equal one delivered from the old connection is a repeat too: the new
// connection's snapshot restating an order already reported, unchanged
// (normalize: Coinbase's user-channel snapshot of an order known, in the
// status last reported and grown nothing, is ExecOrderStatus, not its
// first report again). Reports on one connection are never compared:
// outside a rotation nothing changes.
//
// Besides the latest repeatsCap reports before it (ring: what a
// snapshot repeats; those of an earlier window too), every report delivered within repeatsWindow of the
// rotation's begin is remembered until its copy comes (a report is sent
// at most once on each connection: then it is forgotten) or the window
// ends: the bound is the rotation's time, not a count a busy account
// outgrows while the switch waits for the old connection's answers (up to
// drainBound), with maxRepeats as a ceiling on memory. The window's
// reports are indexed by a hash of what identifies a report (connection,
// symbol, order ids, trade id, status, transaction time; not the
// execution type, which a restatement changes):
// a report is compared, in full, only with those sharing its hash, not
// with every one remembered.
//
// check runs on the connection's reader (a rotation's two connections
// deliver one at a time); begin on the worker that prepares the
// rotation, before anything is sent on the new connection; expire on a
// timer of Client.Clock at the window's end. mu orders them. check
// allocates nothing once the window's slice and index have grown to its
// reports.
type repeats struct {
	dropped atomic.Uint64 // repeats dropped: OrderStats.Duplicates

	clk wsclient.Clock // Client.Clock (set at construction)

	mu      sync.Mutex
	old, nb uint64                 // the latest rotation's connections (begin)
	open    bool                   // its window is open: from begin to its end's timer (expire)
	gen     uint64                 // the latest window's number: its end's timer's (expire)
	ring    [repeatsCap]seenReport // the latest reports delivered
	next    int
	seen    []seenEntry           // the window's, oldest first; conn 0 once its copy came
	head    int                   // seen[:head] forgotten (the slice is compacted as it fills)
	first   uint64                // the sequence number of seen[0] (1 on)
	index   map[uint64]repeatHash // the live chains of seen, by hash (seenEntry.key)
	seed    maphash.Seed          // index's; made with it
	end     wsclient.Timer        // the latest window's end, while armed (expire); nil else
	endDone chan struct{}         // closed when end's callback returns
	stopped bool                  // stop was called: nothing armed again
	// fired are the done channels of ends that fired before their timer
	// was stopped (Stop false): their callbacks run, and stop waits for
	// them to return.
	fired []chan struct{}
}

// seenReport is a report delivered, and its connection.
type seenReport struct {
	conn   uint64
	symbol string
	exec   schema.Execution
}

// seenEntry is a report remembered in a window: its hash, and the next
// one (later) with the same hash, by sequence number (0: none).
type seenEntry struct {
	seenReport
	key, next uint64
}

// repeatHash is one hash's chain in seen: its oldest and latest entries,
// by sequence number. The oldest is always the first of them in seen:
// entries leave seen in order, and a matched one stays (conn 0) until it
// reaches the head.
type repeatHash struct{ oldest, latest uint64 }

// begin: conn nb is to replace conn old; the window opens now, and ends
// when its timer on Client.Clock fires, repeatsWindow later (expire). The
// rotation's connections and its window change together, under mu: a
// reader never pairs the new connections with the former window.
func (r *repeats) begin(old, nb uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.old, r.nb, r.open = old, nb, true
	r.disarmLocked()
	if r.stopped {
		return
	}
	r.gen++
	gen, done := r.gen, make(chan struct{})
	r.end, r.endDone = r.clk.AfterFunc(repeatsWindow, func() {
		defer close(done)
		r.expire(gen)
	}), done
}

// disarmLocked stops the window's end armed, if any. One that fired
// already (Stop false: Client.Clock's Timer, as time.Timer, tells) runs
// its callback: stop waits for it.
func (r *repeats) disarmLocked() {
	if r.end != nil && !r.end.Stop() {
		r.fired = slices.DeleteFunc(r.fired, func(c chan struct{}) bool {
			select {
			case <-c:
				return true
			default:
				return false
			}
		})
		r.fired = append(r.fired, r.endDone)
	}
	r.end, r.endDone = nil, nil
}

// expire ends window gen when its timer on Client.Clock fires: what it
// remembered is forgotten, and its memory beyond keepRepeats given back,
// whether or not a report comes after it. The window's length is the
// timer's, never read off Client.Clock's Now: a step of the wall clock (an
// NTP correction, a laptop waking) neither shortens nor lengthens it. A
// timer of a window that a later begin replaced does nothing.
func (r *repeats) expire(gen uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen != r.gen || r.stopped {
		return
	}
	r.end, r.endDone = nil, nil // fired: nothing to stop (this callback returns on its own)
	r.open = false
	r.forgetAll()
}

// stop disarms the window's end for good (Session.Close), and waits for
// a callback of it already fired to return, within ctx (Close's): none
// runs after stop. The wait is bounded, for it relies on the host's
// Client.Clock: a timer whose Stop says it fired (wsclient.Timer's
// contract: then it runs its function) but whose callback never returns
// would hold Close for ever. When ctx ends first, stop returns an error
// wrapping ctx's cause; such a late callback does nothing (stopped).
func (r *repeats) stop(ctx context.Context) error {
	r.mu.Lock()
	r.stopped = true
	r.disarmLocked()
	fired := r.fired
	r.fired = nil
	r.mu.Unlock()
	for _, c := range fired {
		select {
		case <-c:
			continue
		default:
		}
		select {
		case <-c:
		case <-ctx.Done():
			return fmt.Errorf("session: a rotation window's end fired on Client.Clock and had not returned when Close's ctx ended: %w", context.Cause(ctx))
		}
	}
	return nil
}

// check reports whether ev, an execution report read on conn, repeats one
// delivered from the other connection of the latest rotation (counted;
// the caller drops it), else remembers it while the rotation's window is
// open.
func (r *repeats) check(conn uint64, ev *schema.CanonicalEvent) bool {
	x := ev.Exec
	if x == nil {
		x = new(schema.Execution) // a report without its section reads as zero
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.open {
		r.ringed(conn, ev.Symbol, x)
		return false
	}
	old, nb := r.old, r.nb
	var other uint64
	switch conn {
	case old:
		other = nb
	case nb:
		other = old
	default:
		r.ringed(conn, ev.Symbol, x) // a connection of no rotation under way
		return false
	}
	if other != 0 {
		restating := conn == nb && x.ExecType == schema.ExecOrderStatus
		for i := range r.ring {
			if r.ring[i].repeatedBy(other, ev.Symbol, x, restating) {
				r.dropped.Add(1)
				return true
			}
		}
		if len(r.index) > 0 {
			c := r.index[r.hash(other, ev.Symbol, x)]
			for seq := c.oldest; seq != 0; {
				e := &r.seen[seq-r.first]
				if e.repeatedBy(other, ev.Symbol, x, restating) {
					e.conn, e.symbol, e.exec = 0, "", schema.Execution{} // its one copy came
					r.trim()
					r.dropped.Add(1)
					return true
				}
				seq = e.next
			}
		}
	}
	r.remember(conn, ev.Symbol, x)
	r.ringed(conn, ev.Symbol, x) // among the latest, for a later rotation's snapshot
	return false
}

// repeatedBy reports whether the report of symbol x, read on a rotation's
// connection, repeats e, delivered from the other one (conn): equal in
// every field or, when restating (x is an ExecOrderStatus on the new
// connection), in every field but ExecType.
func (e *seenReport) repeatedBy(conn uint64, symbol string, x *schema.Execution, restating bool) bool {
	if e.conn != conn || e.symbol != symbol {
		return false
	}
	if e.exec == *x {
		return true
	}
	if !restating || e.exec.ExecType == schema.ExecOrderStatus {
		return false
	}
	y := *x
	y.ExecType = e.exec.ExecType
	return e.exec == y
}

// hash is the index's key of the report of symbol x read on conn: what
// identifies a report, but its ExecType (a restatement's is
// ExecOrderStatus, the report it restates another). Reports sharing it
// are told apart by comparing them in full.
func (r *repeats) hash(conn uint64, symbol string, x *schema.Execution) uint64 {
	var h maphash.Hash
	h.SetSeed(r.seed)
	var b [8 + 8 + 1]byte
	binary.LittleEndian.PutUint64(b[0:], conn)
	binary.LittleEndian.PutUint64(b[8:], uint64(x.TransactTime))
	b[16] = byte(x.Status)
	_, _ = h.Write(b[:])
	_, _ = h.WriteString(symbol)
	_ = h.WriteByte(0)
	_, _ = h.Write(x.VenueOrderID.Bytes())
	_ = h.WriteByte(0)
	_, _ = h.Write(x.ClientOrderID.Bytes())
	_ = h.WriteByte(0)
	_, _ = h.Write(x.TradeID.Bytes())
	return h.Sum64()
}

// ringed remembers the report of symbol x, read and delivered on conn,
// among the latest repeatsCap.
func (r *repeats) ringed(conn uint64, symbol string, x *schema.Execution) {
	e := &r.ring[r.next]
	r.next = (r.next + 1) % repeatsCap
	e.conn, e.symbol, e.exec = conn, symbol, *x
}

// remember appends the report of symbol x, read on conn, and indexes it,
// dropping the oldest past maxRepeats and compacting the forgotten ones
// away as the slice fills.
func (r *repeats) remember(conn uint64, symbol string, x *schema.Execution) {
	if r.index == nil {
		if r.seed == (maphash.Seed{}) {
			r.seed = maphash.MakeSeed()
		}
		r.index = make(map[uint64]repeatHash)
	}
	if len(r.seen)-r.head >= maxRepeats {
		r.pop()
		r.trim()
	}
	if len(r.seen) == cap(r.seen) && r.head > 0 {
		n := copy(r.seen, r.seen[r.head:])
		clear(r.seen[n:])
		r.seen, r.first, r.head = r.seen[:n], r.first+uint64(r.head), 0
	}
	if len(r.seen) == 0 {
		r.first = 1
	}
	seq := r.first + uint64(len(r.seen))
	key := r.hash(conn, symbol, x)
	r.seen = append(r.seen, seenEntry{seenReport: seenReport{conn: conn, symbol: symbol, exec: *x}, key: key})
	if c, ok := r.index[key]; ok {
		r.seen[c.latest-r.first].next = seq
		r.index[key] = repeatHash{c.oldest, seq}
		return
	}
	r.index[key] = repeatHash{seq, seq}
}

// pop forgets seen's oldest entry, matched or not: the oldest of its
// hash's chain.
func (r *repeats) pop() {
	e := &r.seen[r.head]
	if e.next == 0 {
		delete(r.index, e.key)
	} else {
		r.index[e.key] = repeatHash{e.next, r.index[e.key].latest}
	}
	*e = seenEntry{}
	r.head++
}

// trim forgets the matched reports at the head.
func (r *repeats) trim() {
	for r.head < len(r.seen) && r.seen[r.head].conn == 0 {
		r.pop()
	}
	if r.head == len(r.seen) {
		r.seen, r.head = r.seen[:0], 0
	}
}

// forgetAll ends the window: nothing remembered (keepRepeats of the
// capacity kept).
func (r *repeats) forgetAll() {
	if cap(r.seen) > keepRepeats {
		r.seen, r.head, r.index = nil, 0, nil
		return
	}
	clear(r.seen)
	clear(r.index)
	r.seen, r.head = r.seen[:0], 0
}
