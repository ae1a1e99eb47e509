package wsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"

	"github.com/meltica/meltica/schema"
)

// ringSize is how many of the old connection's latest frames a rotation
// remembers (as hashes) to find where the new connection's stream joins it.
const ringSize = 256

// overlap is the state of one rotation, guarded by Client.deliverMu.
//
// Venues that send byte-identical frames to every connection (Binance
// market streams do) let the client align the two streams without parsing
// them. While the old connection delivers, the new one's frames wait in its
// queue. The streams are aligned as soon as one frame is seen on both:
//
//   - the old connection delivers a frame equal to queued frame j (the old
//     stream is behind or level): queued frames 0..j were delivered by the
//     old connection; the rest are new;
//   - the new connection receives a frame equal to one the old connection
//     delivered (the old stream is ahead): everything queued before it was
//     delivered, and so were the old frames after the match, which the new
//     connection is about to repeat: they are skipped as they come.
//
// Then the old connection is retired and the new one delivers from the
// first frame the old one did not. If no frame matches within
// RotationOverlap after the new connection's first message (the venue
// stamps frames per connection, or the streams differ), the switch happens
// as without alignment and is reported ([ErrRotationUnaligned]).
type overlap struct {
	old, nb *conn
	ring    [ringSize]uint64 // hashes of the old connection's latest frames
	n       int              // frames the old connection delivered into ring
	hist    history          // every keyed frame the old connection delivered in the overlap (up to histMax)

	done    bool // aligned
	wrapped bool // the join's frame was delivered before the ring's frames too: the new one may be a copy the ring lost (see skipPast)
	drop    int  // aligned: queued frames the old connection delivered, or from before the join
	// unmatched counts the keyed frames among them that match no frame
	// the old connection delivered: the first that did is the join, so
	// those before it are the new connection's own (ErrRotationDropped).
	unmatched int
	// joinQueued: the join is queued frame drop-1 (the old stream was
	// behind); otherwise the join was never queued (the old stream ahead).
	joinQueued bool
	skip       []uint64      // aligned, old ahead: repeats the new connection will send next
	run        bool          // skip holds only copies of the join's frame (a run at the ring's end)
	cand       candidates    // an ambiguous join (see candidates): where in skip the new stream may be
	aligned    chan struct{} // closed when aligned
	seeded     bool          // the old connection's frames from before the rotation are in ring (seed)
}

// pastFrames are the buffers of the latest frames a live connection
// delivered (or skipped as repeats of frames its predecessor delivered;
// those goLive delivered from its queue after the join included; and,
// replaced, those it read after the join, which a rotation given up
// leaves undelivered: the gap restoreOld reports, so that the window
// runs through it without a hole), oldest first from position from:
// when a rotation of the connection
// begins, they are what it delivered just before (seed), and a new
// connection whose venue path lags so far behind that it repeats them is
// joined to the old stream there, not taken for one that sends frames the
// old connection never delivered (ErrRotationDropped: a false loss, a
// needless resync). Keeping them costs no copy: the frame's buffer, once
// the handler returned, is swapped for the slot's oldest (a frame
// whose buffer grew past pastMaxCap, a large message's, is copied into
// the slot instead, and one larger than that is a hole: the frames
// before it are forgotten, so that the ones kept follow each other). The
// buffers of pastSize frames stay with the connection: 32 × 4 KiB, the
// default frame buffer, for frames up to that size; at most 32 ×
// pastMaxCap (and twice that for copies grown by append).
type pastFrames struct {
	bufs [pastSize][]byte
	n    int // frames kept since the dial
	from int // the first kept frame still usable (after the last hole)
}

// pastSize is how many of its latest frames a connection keeps for a
// rotation (pastFrames), pastMaxCap the largest buffer swapped into them.
const (
	pastSize   = 32
	pastMaxCap = 4 * schema.DefaultFrameBuffer
)

// keep adds f, just delivered (or, by a replaced connection, read: see
// pastFrames), taking its buffer and giving it the slot's oldest (a new
// one of the default size the first time, once per slot).
func (p *pastFrames) keep(f *schema.WsFrame) {
	i := p.n % pastSize
	switch {
	case cap(f.Data) <= pastMaxCap:
		b := p.bufs[i][:0]
		if b == nil { // the slot's first use: the frame never goes back to its pool without a buffer
			b = make([]byte, 0, schema.DefaultFrameBuffer)
		}
		p.bufs[i], f.Data = f.Data, b
	case len(f.Data) <= pastMaxCap:
		p.bufs[i] = append(p.bufs[i][:0], f.Data...)
	default:
		p.from = p.n + 1
	}
	p.n++
}

// seed puts the frames the old connection kept (pastFrames) into the
// ring and the history, as frames it delivered, before anything of the
// overlap: called under deliverMu by whichever reader comes first, the
// old connection's with its first frame since the rotation began or the
// new one's. The old reader may still be in a lock-free handler call
// begun before its mode changed, which keeps its frame when it returns:
// until it has, seed waits for nothing (the host's handler may take long,
// and deliverMu is held) and does nothing; the call's end seeds
// (handlerSeed), or a frame of either connection before. A new connection's frames queued meanwhile are then
// looked for in the ring, in their order, as they would have been as they
// came (ringJoin): the first found is the join, the old stream ahead.
func (ov *overlap) seed() {
	old := ov.old
	if ov.seeded || !old.seedable() {
		return
	}
	ov.seeded = true
	p := &old.past
	for k := max(p.from, p.n-pastSize); k < p.n; k++ {
		h := old.c.frameHash(p.bufs[k%pastSize])
		if h != unkeyed {
			ov.remember(h)
		}
	}
	if nb := ov.nb; nb != nil && !ov.done {
		for j, h := range nb.hashes {
			if h != unkeyed && ov.ringJoin(nb, h, j, j+1) {
				ov.joinQueued = true
				return
			}
		}
	}
}

// unkeyed is the hash of a frame that marks no place in the stream
// (Options.AlignKey returned nil or nothing): it never matches; frameHash never
// returns it for a frame that has a key.
const unkeyed = 0

// alignKey returns what of frame b the alignment compares, or nil.
func (c *Client) alignKey(b []byte) []byte {
	if c.opts.AlignKey == nil {
		return b
	}
	return c.opts.AlignKey(b)
}

// frameHash identifies a frame for alignment by its key (alignKey): a
// 64-bit maphash with a seed of the client's, or unkeyed. A false match
// has a chance of 2⁻⁶⁴ per comparison; matches against queued frames are
// confirmed byte by byte. A frame Options.IsData calls no data (an
// answer, a heartbeat, a notice) is unkeyed whatever AlignKey says: two
// connections send such frames alike at places of their own (a venue's
// heartbeat, the ack of each connection's first request), and a match
// there joined the streams at the wrong place, repeating or losing the
// data in between.
func (c *Client) frameHash(b []byte) uint64 {
	if c.opts.IsData != nil && !c.opts.IsData(b) {
		return unkeyed
	}
	k := c.alignKey(b)
	if len(k) == 0 {
		return unkeyed
	}
	if h := maphash.Bytes(c.seed, k); h != unkeyed {
		return h
	}
	return unkeyed + 1
}

// oldDelivered is told of each frame the old connection delivered during
// the overlap (b, its bytes), and of those it delivered just before it
// (seed).
func (ov *overlap) oldDelivered(b []byte) {
	c := ov.old.c
	h := c.frameHash(b)
	if h == unkeyed {
		return
	}
	if nb := ov.nb; nb != nil && !ov.done {
		k := c.alignKey(b)
		for j, hj := range nb.hashes {
			if hj == h && bytes.Equal(c.alignKey(nb.queue[j].Data), k) {
				ov.unmatched = ov.undelivered(nb.hashes[:j])
				ov.joinQueued = true
				ov.align(j+1, nil)
				return
			}
		}
	}
	ov.remember(h)
}

// seedable reports whether the old connection's kept frames may be read:
// its reader is in no lock-free handler call (idle: a call under way has
// returned and kept its frame; one begun after looks at the mode, not
// live since beginOverlap, and waits for deliverMu). Otherwise it asks
// the call's end to seed. deliverMu is held (no handlerOut waits).
func (cn *conn) seedable() bool {
	for {
		switch cn.handling.Load() {
		case handlerIdle:
			return true
		case handlerBusy:
			if cn.handling.CompareAndSwap(handlerBusy, handlerSeed) {
				return false
			}
		default: // asked already
			return false
		}
	}
}

// remember adds a frame of hash h the old connection delivered.
func (ov *overlap) remember(h uint64) {
	ov.ring[ov.n%ringSize] = h
	ov.hist.add(h, ov.n)
	ov.n++
}

// histSlots is the size of a rotation's history (a power of two), histMax
// how many frames it holds (three quarters: short probes).
const (
	histSlots = 1 << 13
	histMax   = histSlots * 3 / 4
)

// history holds the hash of every keyed frame the old connection delivered
// since the rotation began (and of the pastSize frames it delivered just
// before: seed), up to histMax distinct ones (then full), and
// where the first of each came (its position in the old connection's
// count): an open-addressed set, 96 KiB by value in the overlap (one
// allocation a rotation, none a frame; one probe per old frame, under
// deliverMu, during the overlap only). The ring says where a frame was (the join);
// the history only whether the old connection delivered it, which the
// ring cannot say once it wrapped: a new connection more than ringSize
// frames behind the old one sends frames the ring no longer keeps. The
// new connection's stream starts at its subscription, after the rotation
// began, so it repeats a frame the old connection delivered before the
// frames seeded only when its venue path lags by more than pastSize
// frames: a frame absent from a history that is not full is counted as
// never delivered by the old connection (in that rare case a loss that is
// none: the safe side).
type history struct {
	slots [histSlots]uint64 // 0 (unkeyed): empty
	first [histSlots]int32  // the position of the first frame of slots[i] (at most math.MaxInt32)
	n     int
	full  bool // a frame was not added: absent no longer means never delivered
}

// probe returns the slot of h, or the empty slot where it would go.
func (hs *history) probe(h uint64) int {
	for i := h; ; i++ {
		if s := hs.slots[i&(histSlots-1)]; s == h || s == unkeyed {
			return int(i & (histSlots - 1))
		}
	}
}

// add records a frame of hash h the old connection delivered at
// position at (its count before it).
func (hs *history) add(h uint64, at int) {
	if i := hs.probe(h); hs.slots[i] == unkeyed {
		if hs.n == histMax {
			hs.full = true
			return
		}
		hs.slots[i], hs.first[i], hs.n = h, int32(min(at, math.MaxInt32)), hs.n+1
	}
}

// delivered reports whether the old connection surely delivered a frame of
// hash h; maybe whether it may have (surely, or the history is full).
func (hs *history) delivered(h uint64) bool { return h != unkeyed && hs.slots[hs.probe(h)] == h }

// before reports whether the old connection may have delivered a frame
// of hash h before position low (the ring's oldest): its first copy came
// earlier, or the set is full and does not hold h.
func (hs *history) before(h uint64, low int) bool {
	if i := hs.probe(h); hs.slots[i] == h {
		return int(hs.first[i]) < low
	}
	return hs.full
}

func (hs *history) maybe(h uint64) bool { return hs.full || hs.delivered(h) }

// behind reports whether a frame of hash h, no repeat a join on a copy
// the ring may have lost expected, may be one the old connection
// delivered (see skipPast); a nil history (an exact join) says no.
func (hs *history) behind(h uint64) bool { return hs != nil && hs.maybe(h) }

// undelivered counts the frames of hashes that have a key and that the
// old connection did not surely deliver: a new connection's frames from
// before the join. A frame the history has was delivered by the old
// connection before its latest ringSize frames (the new stream more than
// the ring behind the old one when it came): dropped as the repeat it
// is, no loss.
func (ov *overlap) undelivered(hashes []uint64) int {
	n := 0
	for _, h := range hashes {
		if h != unkeyed && !ov.hist.delivered(h) {
			n++
		}
	}
	return n
}

// newArrived is told of each frame of the standby connection; it queues f
// and returns false, or returns true when f repeats a frame the old
// connection delivered (f is not queued).
func (ov *overlap) newArrived(nb *conn, f *schema.WsFrame) bool {
	c := nb.c
	h := c.frameHash(f.Data)
	if ov.nb == nil {
		ov.nb = nb
		close(nb.first)
	}
	ov.seed()
	if !ov.done && h != unkeyed {
		if ov.ringJoin(nb, h, len(nb.queue), len(nb.queue)) {
			return true
		}
		if ov.hist.delivered(h) {
			// In none of the old connection's latest frames but
			// delivered before them: the new stream is more than the
			// ring behind. A repeat, dropped as it comes (queued, such
			// frames would fill the queue and hold the reader until
			// RotationOverlap ran out, then be delivered again).
			return true
		}
	}
	nb.queue = append(nb.queue, f)
	nb.hashes = append(nb.hashes, h)
	return false
}

// ringJoin looks for a frame of hash h, the new connection's, among the
// old connection's latest (the ring): found, the streams are joined there
// (the old stream ahead), the new connection's first before queued frames
// coming before the join, drop of them dropped (the join's frame among
// them when it is queued: seed), and it reports true.
func (ov *overlap) ringJoin(nb *conn, h uint64, before, drop int) bool {
	low := max(0, ov.n-ringSize)
	for i := ov.n - 1; i >= low; i-- {
		if ov.ring[i%ringSize] != h {
			continue
		}
		// A run of byte-identical frames (a venue repeating an
		// unchanged quote): join at its first, the new connection
		// may send the whole run; a repeat too many in the list is
		// stepped over (skipTo), one too few would be delivered twice.
		for i > low && ov.ring[(i-1)%ringSize] == h {
			i--
		}
		if oldest := ov.olderCopy(h, i, low); oldest >= 0 {
			// Another copy before the run: which of them the new
			// connection's frame is, its next frames tell (candidates).
			skip := make([]uint64, 0, ov.n-1-oldest)
			for k := oldest + 1; k < ov.n; k++ {
				skip = append(skip, ov.ring[k%ringSize])
			}
			ov.run, ov.cand = false, candidates{}
			for k := oldest; k < ov.n; k++ {
				if ov.ring[k%ringSize] == h {
					ov.cand.set(k - oldest) // skip[k-oldest] is the frame after that copy
				}
			}
			ov.unmatched = ov.undelivered(nb.hashes[:before])
			ov.wrapped = ov.hist.before(h, low)
			ov.align(drop, skip)
			return true
		}
		skip := make([]uint64, 0, ov.n-1-i)
		run := true
		for k := i + 1; k < ov.n; k++ {
			skip = append(skip, ov.ring[k%ringSize])
			run = run && ov.ring[k%ringSize] == h
		}
		// Skip only the run's copies: the new connection's frame may
		// be any of them, and the message after the run, not one of
		// them, is then new, not a divergence.
		ov.run = run
		ov.unmatched = ov.undelivered(nb.hashes[:before])
		ov.wrapped = ov.hist.before(h, low)
		ov.align(drop, skip)
		return true
	}
	return false
}

// olderCopy returns the position (in the old connection's count) of the
// oldest frame of hash h in the ring before position before that is not
// in the run ending there, or -1 when none is.
func (ov *overlap) olderCopy(h uint64, before, low int) int {
	oldest := -1
	for k := before - 1; k >= low; k-- {
		if ov.ring[k%ringSize] == h {
			oldest = k
		}
	}
	return oldest
}

// candidates are an ambiguous join's places: the new connection's first
// frame was a copy of a message the old connection delivered more than
// once, apart (a venue repeating an unchanged ticker or quote: a, b, a),
// so the new stream may be at any of them. Bit o set: the new connection
// may send skip[o] next (o == len(skip): it has sent every repeat). Each
// frame keeps the places whose next repeat it is; a frame that is the
// next repeat of none is new (delivered, the skipping ends without a
// verdict: nothing diverged, the join was at a later copy), and a frame
// that leaves only the place past every repeat was the last repeat. Its
// size holds every place a ring of ringSize frames gives.
type candidates [ringSize/64 + 1]uint64

func (cs *candidates) set(o int) { cs[o>>6] |= 1 << (o & 63) }

func (cs *candidates) none() bool { return *cs == candidates{} }

// step returns the places that remain after a frame of hash h.
func (cs *candidates) step(skip []uint64, h uint64) candidates {
	var next candidates
	for w, set := range cs {
		for set != 0 {
			b := set & -set
			set ^= b
			o := w<<6 + bits.TrailingZeros64(b)
			if o < len(skip) && skip[o] == h {
				next.set(o + 1)
			}
		}
	}
	return next
}

// answer reports whether f is no data (Options.IsData says so): an
// answer to the connection's own request or a notice to it, which a
// rotation never drops (see goLive).
func (c *Client) answer(f *schema.WsFrame) bool {
	return c.opts.IsData != nil && !c.opts.IsData(f.Data)
}

// align records where the streams join and retires the old connection:
// from now on its data is dropped, the new connection has it (its
// answers are delivered: modeReplaced).
func (ov *overlap) align(drop int, skip []uint64) {
	ov.done, ov.drop, ov.skip = true, drop, skip
	ov.old.mode.Store(modeReplaced)
	close(ov.aligned)
}

// skipRepeat drops f if it is a repeat a skipping connection expects
// (see skipPast); any other frame is delivered. A repeat after frames
// that were not (the streams diverged) reports the rotation unaligned.
// A connection whose own rotation began meanwhile (modeOverlap) keeps
// that mode. deliverMu is held.
func (c *Client) skipRepeat(cn *conn, f *schema.WsFrame) bool {
	h := c.frameHash(f.Data)
	if h == unkeyed {
		return false
	}
	ended := skipEnded(cn.skip, &cn.cand)
	rest, missed, skipped, diverged := skipPast(cn.skip, &cn.cand, cn.run, cn.missed, cn.hist, h)
	cn.skip, cn.missed = rest, missed
	if skipOver(rest, ended, skipped, cn.hist) {
		cn.mode.CompareAndSwap(modeSkipping, modeLive)
		cn.hist = nil
	}
	if diverged && !cn.told { // one rotation, reported once (Stats.Unaligned counts rotations)
		cn.told = true
		c.unaligned(cn.ctx, cn.id) // under deliverMu: before cn's next frame
	}
	return skipped
}

// skipPast is what a frame of hash h (keyed) does to the repeats skip a
// connection still expects, missed the frames it sent since the last
// repeat that were none: a repeat is skipped and leaves rest (skipTo);
// after missed frames, it shows that they were frames the old connection
// never delivered among its repeats (the streams diverged: they were
// delivered out of their place). A frame that is no repeat is delivered;
// skipping goes on, for the repeats left may be frames the old connection
// alone was sent (its notice), which never come — or frames that come
// after one the old connection missed, which must not be delivered twice
// —, and ends without a verdict after watchMissed such frames. The
// repeats are the old connection's frames in the venue's order, so a
// frame of both streams that is none of them comes after all of them:
// the repeats left then were the old connection's alone. A run the new
// connection joined somewhere in (run: fewer copies may come) ends at
// its first frame that is no copy.
//
// hist is the rotation's history when the old connection delivered the
// join's frame before the ring's frames too, or may have (the history
// full), nil otherwise: the join's frame may then be a copy of a message
// the old connection delivered before, gone from the ring (a, u1..u300, a: the
// new stream more than the ring behind, at the first a), and a frame that
// is no repeat the join expects (nor, for an ambiguous join, the next
// repeat of any place) but one the old connection may have delivered
// says so: the streams diverged (reported before the frame, which is
// delivered: a message sent twice alike may be new). When the ring holds
// the join's first copy, it holds every copy and the places say it all.
func skipPast(skip []uint64, cand *candidates, run bool, missed int, hist *history, h uint64) (rest []uint64, nowMissed int, skipped, diverged bool) {
	if skipEnded(skip, cand) { // the frame after the last repeat (skipOver kept hist for it)
		return nil, 0, false, hist.behind(h)
	}
	if !cand.none() { // an ambiguous join: the places left decide (see candidates)
		next := cand.step(skip, h)
		var past candidates
		past.set(len(skip))
		switch next {
		case candidates{}: // the next repeat of no place: new
			*cand = next
			return nil, 0, false, hist.behind(h)
		case past: // the last repeat of every place left
			*cand = candidates{}
			return nil, 0, true, false
		}
		*cand = next
		return skip, 0, true, false
	}
	if rest, ok := skipTo(skip, h); ok {
		return rest, 0, true, missed > 0
	}
	if run || missed+1 >= watchMissed {
		return nil, 0, false, hist.behind(h)
	}
	return skip, missed + 1, false, hist.behind(h)
}

// skipEnded reports whether no repeat is expected any more.
func skipEnded(skip []uint64, cand *candidates) bool { return len(skip) == 0 && cand.none() }

// skipOver reports whether skipping is over after a frame: no repeat is
// left (rest), and without hist (the ring held the join's every copy)
// that is all. With hist, the skipping ended on a repeat (skipped, ended
// false: the last repeat, or the last of every place of an ambiguous
// join) leaves the frame after it to be looked up (skipPast): the new
// stream may be at a copy the ring lost, whose last repeat that was not
// (a, b, a, b, ... from a lost a: the places follow it to the end of
// the ring's, the new stream short of the old one's end), and that frame
// says so — one the old connection may have delivered is reported, one
// it never delivered is new (the new stream is past the old one's end).
func skipOver(rest []uint64, ended, skipped bool, hist *history) bool {
	return len(rest) == 0 && (hist == nil || ended || !skipped)
}

// watchMissed is how many frames that are no repeat a connection still
// skipping may send before its repeats left are taken for frames the old
// connection alone was sent (see skipPast): the ring's size, the most
// repeats there can be.
const watchMissed = ringSize

// skipTo finds the repeat of hash h in skip, the old connection's frames
// after the join that the new connection is expected to send next, and
// returns what is left after it. The repeats before it are frames the old
// connection alone was sent (a venue's notice to that connection, such as
// Binance's serverShutdown that starts the rotation): the new connection
// never sends them, and the repeats after them must still be skipped.
func skipTo(skip []uint64, h uint64) ([]uint64, bool) {
	for k, s := range skip {
		if s == h {
			return skip[k+1:], true
		}
	}
	return skip, false
}

// unrotated is the mode a live connection returns to when its rotation is
// given up: skipping the repeats still expected from the rotation before,
// or live.
func unrotated(cn *conn) int32 {
	if len(cn.skip) > 0 || cn.hist != nil {
		return modeSkipping
	}
	return modeLive
}

// beginOverlap starts remembering what old delivers.
func (c *Client) beginOverlap(old *conn) *overlap {
	ov := &overlap{old: old, aligned: make(chan struct{})}
	c.deliverMu.Lock()
	c.ov = ov
	old.mode.Store(modeOverlap)
	c.deliverMu.Unlock()
	return ov
}

// abortOverlap gives delivery back to old after a failed rotation, nb
// (the new connection, nil when none) delivering nothing more from then
// on: old delivers lock-free again, and a prepared connection delivers as
// it reads (stopping it comes after, on a goroutine of its own). It
// returns false, and leaves old replaced, when the streams were already
// aligned: old dropped its data from the join on, which nb took with it,
// and restoreOld gives delivery back to old with that gap reported.
func (c *Client) abortOverlap(ov *overlap, nb *conn) bool {
	c.deliverMu.Lock()
	defer c.deliverMu.Unlock()
	if nb != nil {
		nb.mode.Store(modeRetired)
	}
	if ov.done {
		return false
	}
	ov.old.mode.Store(unrotated(ov.old))
	c.ov = nil
	return true
}

// giveUp ends a rotation that failed with err: old is kept (with the gap
// restoreOld reports when the streams had been joined), nb, the new
// connection (nil when none is left to stop), is stopped and its queue
// dropped.
func (c *Client) giveUp(ctx context.Context, ov *overlap, nb *conn, err error) (*conn, error) {
	if !c.abortOverlap(ov, nb) {
		c.restoreOld(ctx, ov)
	}
	if nb != nil {
		c.stopAside(nb, true)
	}
	return nil, err
}

// restoreOld gives delivery back to old once the streams were aligned
// (old dropped its data from the join on, and the new connection, given
// up, took what it held with it): a possible gap, announced (unaligned)
// before old delivers again, under the lock its reader waits for. An old
// connection dead by then delivers nothing again: its loss, the same
// gap, is reported once, by serve (Disconnected), and old stays
// replaced (its last frames, after the join, dropped). So does one whose
// rotation Close or Run's end gave up (ctx ended): it ends too, and no
// loss is reported (as rotationFailed reports no failure). One that dies
// after the look (its reader had not yet seen the socket end, or while
// OnEvent has the report) is reported lost too, by serve: both events
// name old with no frame between them, one gap (see the package doc; a
// report deferred to old's next frame or death would leave a quiet
// stream's host unaware of the gap). The frames of the gap are in old's
// kept frames (pastFrames, kept while it was replaced): a later
// rotation's new connection that repeats them drops them, the loss
// reported here, without a second report.
func (c *Client) restoreOld(ctx context.Context, ov *overlap) {
	c.deliverMu.Lock()
	defer c.deliverMu.Unlock()
	c.ov = nil
	if ctx.Err() != nil {
		return
	}
	select {
	case <-ov.old.dead:
		return
	default:
	}
	c.unaligned(ctx, ov.old.id)
	ov.old.mode.Store(unrotated(ov.old))
}

// goLive turns the standby connection into the live one once the old one
// delivers no more: the queued frames the old connection did not deliver
// go to the handler, then the reader delivers. Before the first of them,
// under the lock that serialises delivery, it calls switched with whether
// the streams were joined and how many keyed frames from before the join
// it drops that the old connection never delivered: switchTo announces
// the switch there, so that whatever OnEvent does with a loss (a
// session's gap markers) comes before the new connection's frames. Streams
// found to diverge only while the queue is delivered (a frame the old
// connection never delivered, sent among the repeats) are reported there,
// before the next queued frame. The switch is made under that lock once
// the old connection's handler call is out: nb, dead then, is no switch
// (goLive reports false and changes nothing: nb is neither made current
// nor delivers, and the rotation fails); made, it reports true.
func (c *Client) goLive(ov *overlap, nb *conn, switched func(aligned bool, dropped int)) bool {
	c.deliverMu.Lock()
	defer c.deliverMu.Unlock()
	// Under the lock: a prepared connection's reader waits for the same
	// call (deliverShared), and a second wait begun while the first is
	// under way would not wait. The old reader's handlerDone takes no lock.
	ov.old.handlerOut()
	select {
	case <-nb.dead: // died before the switch: nothing changed, nb delivered nothing
		return false
	default:
	}
	c.setCurrent(nb)
	ov.old.mode.Store(modeReplaced)
	aligned := ov.done || c.opts.Prepare != nil
	c.st.rotations.Add(1) // before nb delivers, and before the switch is announced: Stats never lag its frames
	switched(aligned, ov.unmatched)
	inPlace := true
	skip, missed, cand := ov.skip, 0, ov.cand
	var hist *history
	if ov.wrapped {
		hist = &ov.hist
	}
	for i, f := range nb.queue {
		switch {
		case i < ov.drop: // delivered by the old connection, or from before the join (ov.unmatched)
			if (i < ov.drop-1 || !ov.joinQueued) && c.answer(f) {
				// The new connection's own answer (an ack, a refusal, a
				// notice): the old connection never had it. Unkeyed
				// (frameHash): never counted in ov.unmatched.
				c.handle(nb.ctx, f, nb.id)
			}
		case (len(skip) > 0 || hist != nil) && nb.hashes[i] != unkeyed:
			ended := skipEnded(skip, &cand)
			rest, m, skipped, diverged := skipPast(skip, &cand, ov.run, missed, hist, nb.hashes[i])
			skip, missed = rest, m
			if skipOver(rest, ended, skipped, hist) {
				hist = nil
			}
			if diverged && aligned && inPlace { // the frames before this repeat the old connection never delivered: out of their place
				inPlace = false
				c.unaligned(nb.ctx, nb.id)
			}
			if skipped {
				break
			}
			c.handle(nb.ctx, f, nb.id)
		default:
			c.handle(nb.ctx, f, nb.id)
		}
		if i >= ov.drop { // delivered, or a repeat of one the old connection did: for nb's own rotation (pastFrames)
			nb.past.keep(f)
		}
		c.putFrame(f)
		nb.queue[i] = nil
	}
	nb.queue, nb.hashes = nb.queue[:0], nb.hashes[:0]
	nb.skip, nb.run, nb.missed, nb.cand, nb.hist = skip, ov.run, missed, cand, hist
	nb.told = !aligned || !inPlace // reported once
	if len(skip) > 0 || hist != nil {
		nb.mode.Store(modeSkipping)
	} else {
		nb.mode.Store(modeLive)
	}
	close(nb.liveCh)
	c.lf = nb
	c.ov = nil
	return true
}

// rotate replaces old make-before-break: it dials and subscribes a standby
// connection and switches delivery to it once the two streams are aligned
// (see overlap), or RotationOverlap after its first message, or when old
// dies. It returns the new live connection, or nil and the error when the
// rotation failed (old is kept; serve arms the retry, then reports it:
// rotationFailed): a new connection that died before the switch, after
// the join too, is such a failure, never made live.
func (c *Client) rotate(ctx context.Context, old *conn) (*conn, error) {
	c.setState(Event{State: schema.ConnRotating, Reason: ReasonRotation, ConnID: old.id})
	ov := c.beginOverlap(old)
	nb, err := c.connectStandby(ctx, old)
	if err != nil {
		// nb is stopped and its queue dropped. Had the streams been
		// aligned meanwhile, old dropped what nb held: a possible gap.
		return c.giveUp(ctx, ov, nil, err)
	}
	abort := func(err error) (*conn, error) { return c.giveUp(ctx, ov, nb, err) }
	// switchTo nb, unless nb died before the switch (its last
	// subscription written as it died, between the join and the
	// switch, or while the switch waited for old's reader or for the
	// delivery lock: the selects below may pick the join, the overlap's
	// end or old's death while nb.dead is ready too): the rotation
	// failed, old is kept, or, dead too, redialled by serve. The look is
	// the switch's own (goLive), made under the delivery lock once old's
	// handler call is out, before nb is made current or delivers: a look
	// made before the switch waited there let nb die in between, and the
	// switch was made onto a dead connection, announced Connected, its
	// death then reported as the loss of the live connection, and a
	// live old connection closed. One that dies after the look dies
	// live: its loss is a loss.
	switchOrFail := func() (*conn, error) {
		if !c.switchTo(ov, nb) {
			return abort(nb.endErr())
		}
		return nb, nil
	}
	if c.opts.Prepare != nil {
		if err := c.prepare(old, nb); err != nil {
			return abort(err)
		}
		return switchOrFail()
	}
	select {
	case <-nb.first:
		t := c.opts.Clock.NewTimer(c.opts.RotationOverlap)
		defer t.Stop()
		select {
		case <-ov.aligned:
		case <-t.C():
		case <-old.dead:
		case <-nb.dead:
			return abort(nb.endErr())
		case <-ctx.Done():
			return abort(ctx.Err())
		}
	case <-ov.aligned:
	case <-old.dead:
	case <-nb.dead:
		return abort(nb.endErr())
	case <-ctx.Done():
		return abort(ctx.Err())
	}
	return switchOrFail()
}

// endErr is why cn, dead, ended: its error, or, stopped without one (a
// close handshake begun by the client), an error naming its reason: a
// failed rotation is reported by its error (rotationFailed), and a
// Connected event of a rotation without one is a switch.
func (cn *conn) endErr() error {
	if cn.err != nil {
		return cn.err
	}
	return fmt.Errorf("wsclient: connection %d ended: %s", cn.id, cn.reason)
}

// prepare runs Options.Prepare on nb, bounded by RotationOverlap on the
// Clock, Run's end and nb's: a *PrepareError when it fails. It runs on a
// goroutine of its own, waited for, so that old's loss meanwhile is
// reported when it happens (as connectStandby does).
func (c *Client) prepare(old, nb *conn) error {
	ctx, cancel := c.withTimeout(nb.ctx, c.opts.RotationOverlap, "prepare")
	defer cancel()
	write := func(wctx context.Context, msg []byte) error { return nb.write(wctx, msg) }
	done := make(chan error, 1)
	go func() { done <- c.opts.Prepare(ctx, nb.id, write) }()
	var err error
	select {
	case err = <-done:
	case <-old.dead:
		c.lostAfterReader(old)
		err = <-done
	}
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		// Returned nil once ctx had ended (not ready), or ctx's error:
		// why ctx ended (RotationOverlap: DeadlineExceeded; the new
		// connection's end: its error, set before dead was closed).
		err = context.Cause(ctx)
		select {
		case <-nb.dead:
			if nb.err != nil {
				err = nb.err
			}
		default:
		}
	}
	if err != nil {
		return &PrepareError{ConnID: nb.id, Err: err}
	}
	return nil
}

// connectStandby dials and subscribes a rotation's new connection on a
// goroutine of its own, and waits for it: the main loop would otherwise
// not see the old connection die meanwhile — for up to DialTimeout and
// the paced subscriptions —, and the host would see no Disconnected
// event, trading on a stream that had stopped. The loss is reported when
// it happens (lost); the dial goes on, and becomes the reconnection.
func (c *Client) connectStandby(ctx context.Context, old *conn) (*conn, error) {
	type result struct {
		cn  *conn
		err error
	}
	done := make(chan result, 1)
	mode := modeStandby
	if c.opts.Prepare != nil {
		mode = modePreparing
	}
	go func() {
		nb, _, err := c.connect(ctx, mode)
		done <- result{nb, err}
	}()
	select {
	case r := <-done:
		return r.cn, r.err
	case <-old.dead:
		c.lostAfterReader(old)
	}
	r := <-done
	return r.cn, r.err
}

// lostAfterReader reports the loss of old, a rotation's live connection
// that died while the new one is dialled or prepared, once old's
// goroutines have exited (they end with it), as serve reports a loss
// after retire waited for them: a frame old's reader had read, still in
// the handler or about to be delivered, comes before the Disconnected
// event, and whatever OnEvent does with the loss (a session's gap marker)
// comes after that frame. A rotation whose streams were joined by then
// lost nothing with old (old delivered up to the join, the new
// connection has the rest): the switch reports no loss, and a rotation
// given up after the join leaves old's loss to serve (restoreOld). deliverMu
// must not be held (old's reader may wait for it).
func (c *Client) lostAfterReader(old *conn) {
	old.wg.Wait()
	c.deliverMu.Lock()
	joined := c.ov != nil && c.ov.old == old && c.ov.done
	c.deliverMu.Unlock()
	if !joined {
		c.lost(old)
	}
}

// lost reports the loss of cn, a live connection, once (a rotation may
// see it first, then serve): Write refuses it from now, and the state is
// Disconnected until the next connection is up.
func (c *Client) lost(cn *conn) {
	if c.reported == cn.id {
		return
	}
	c.reported = cn.id
	c.clearCurrent(cn)
	c.st.reconnects[cn.reason].Add(1)
	c.setState(Event{State: schema.ConnDisconnected, Reason: cn.reason, Err: cn.err, ConnID: cn.id, IngestTS: cn.ingestNow()})
}

// switchTo completes a rotation: old stops, nb goes live; or, nb dead
// at the switch (goLive's look), it reports false and nothing changed: the
// rotation failed. An old connection dead by the switch is waited for
// first (its goroutines end with it), deliverMu not held, as
// lostAfterReader waits: a frame its reader had read is delivered in its
// place (before the new connection's frames, and before old's
// Disconnected event when the switch reports one), and may still join
// the streams. One that dies after this look dies replaced: no loss (the
// switch is reported unaligned, or was joined).
func (c *Client) switchTo(ov *overlap, nb *conn) bool {
	old := ov.old
	dead := false
	select {
	case <-old.dead:
		old.wg.Wait()
		dead = true
	default:
	}
	// old delivers nothing more once goLive holds the lock (its reader
	// delivers under deliverMu while the rotation is under way), so nb
	// goes live at once; old's close handshake, up to CloseTimeout, comes
	// last and delays nothing.
	return c.goLive(ov, nb, func(aligned bool, dropped int) {
		if dropped > 0 {
			// Before Connected: the state still says Rotating, and a
			// Connected event with an error other than
			// ErrRotationUnaligned is a failed rotation's. Announced: a
			// full queue must not drop it (the Connected event after it
			// names the rotation, which tells a host of no loss).
			c.st.dropped.Add(uint64(dropped))
			c.announce(nb.ctx, Event{State: c.State(), Reason: ReasonRotation, Err: fmt.Errorf("%w: %d frames of connection %d", ErrRotationDropped, dropped, nb.id), ConnID: nb.id})
		}
		if !aligned && dead { // lost before the switch: a possible gap
			c.lost(old)
		} // joined: old delivered up to the join, nb has the rest — no gap, dead or not
		// Its close bound (or its grace) armed before the switch is
		// announced (stopAside).
		c.retireAside(old)
		up := Event{State: schema.ConnConnected, Reason: ReasonRotation, ConnID: nb.id}
		c.st.state.Store(uint32(up.State))
		c.emit(up, false)
		if !aligned {
			c.unaligned(nb.ctx, nb.id)
		}
	})
}

// stopAside stops cn, retired or given up, on a goroutine that Run waits
// for, and with drop returns its queued frames: its close handshake (up
// to CloseTimeout for a venue that does not answer it) in the main loop
// kept that loop from seeing the live connection's loss meanwhile. The
// handshake's bound is armed here, before the caller announces the switch
// or the failure (as announceWait): armed by the goroutine, it could
// come after a host's fake clock was moved on that event by
// CloseTimeout, and the unanswered handshake held cn open until the clock
// moved again.
func (c *Client) stopAside(cn *conn, drop bool) {
	bound := c.closeBound()
	c.aside.Add(1)
	go func() {
		defer c.aside.Done()
		cn.stop(ReasonRotation, bound)
		if drop {
			c.dropQueue(cn)
		}
	}()
}

// retireAside stops old, replaced by a rotation, as stopAside does;
// with Options.IsData it first keeps old open for RotationOverlap on the
// Clock, or until old ends or Run does, delivering its answers
// (modeReplaced): coder/websocket's close handshake reads and discards
// whatever comes after the close frame, and the venue's answer to a
// request the host sent on old just before the switch (a refusal, an ack)
// comes a round trip later. The grace's timer is armed here, before the
// switch is announced, for the reason stopAside arms its bound there.
// One replaced connection is kept at a time: the next rotation's ends the
// grace of the one before (rotations faster than RotationOverlap, or a
// Clock that does not move, would otherwise keep every replaced
// connection open, each still receiving the venue's stream). Once old
// ended, Options.OnReplacedEnd is told: no answer comes on it any more.
func (c *Client) retireAside(old *conn) {
	if c.opts.IsData == nil {
		c.stopAside(old, false)
		return
	}
	if c.graceEnd != nil {
		close(c.graceEnd)
	}
	end := make(chan struct{})
	c.graceEnd = end
	grace := c.opts.Clock.NewTimer(c.opts.RotationOverlap)
	c.aside.Add(1)
	go func() {
		defer c.aside.Done()
		select {
		case <-grace.C():
		case <-old.dead:
		case <-old.ctx.Done():
		case <-end:
		}
		grace.Stop()
		old.stop(ReasonRotation, nil) // (waits for old's reader: its frames were delivered)
		if c.opts.OnReplacedEnd != nil {
			c.opts.OnReplacedEnd(old.id)
		}
	}()
}

// unaligned reports a rotation that switched without aligning the streams,
// or was given up after it had (restoreOld): around the switch some
// messages may repeat or be missing. It is a loss, announced as the
// switch's others are: the event waits for room and for OnEvent (or ctx's
// end), and the caller holds deliverMu, so that it comes before the
// connection's next frame.
func (c *Client) unaligned(ctx context.Context, id uint64) {
	c.st.unaligned.Add(1)
	c.announce(ctx, Event{State: c.State(), Reason: ReasonRotation, Err: ErrRotationUnaligned, ConnID: id})
}

// rotationFailed reports a failed rotation; old stays live unless it died
// or ctx ended (Close, Run's end: serve closes old next).
func (c *Client) rotationFailed(ctx context.Context, old *conn, err error) {
	if ctx.Err() != nil {
		return
	}
	select {
	case <-old.dead:
		return // serve sees it next
	default:
	}
	c.setState(Event{State: schema.ConnConnected, Reason: ReasonRotation, Err: err, ConnID: old.id})
}
