package venuesim

import (
	"cmp"
	"slices"
	"time"
)

// The venues batch their depth diffs over an interval, not one push per
// change of the book: Binance spot "Diff. Depth Stream" ("Update Speed:
// 1000ms or 100ms": <symbol>@depth pushes each second the changes of the
// second, <symbol>@depth@100ms each 100 ms those of the 100 ms; U "First
// update ID in event", u "Final update ID in event"), and OKX "Order book
// channel" (books: "Incremental data will be pushed every 100 ms for the
// changes in the order book during that period of time", seqId the last
// change's, prevSeqId the last push's seqId). A level changed twice in
// the interval goes out once, with its quantity after the last change; an
// interval with no change pushes nothing.

// depthBatch is the book's changes since a depth stream's last push.
// Guarded by market.mu.
type depthBatch struct {
	first      uint64          // U of the changes pending; 0: none
	bids, asks map[int64]int64 // each changed level's quantity after its last change, by price
}

// note adds a change of the book, the update ids first to the symbol's
// updID, to the batch. gap: depthGapSkip ids were skipped before first
// (FaultDepthGap): the batch's U skips as many past the last push's u,
// whether the batch starts there or held changes already.
func (b *depthBatch) note(bids, asks []level, first uint64, gap bool) {
	switch {
	case b.first == 0:
		b.first = first
	case gap:
		b.first += depthGapSkip
	}
	if b.bids == nil {
		b.bids, b.asks = map[int64]int64{}, map[int64]int64{}
	}
	for _, l := range bids {
		b.bids[l.price] = l.qty
	}
	for _, l := range asks {
		b.asks[l.price] = l.qty
	}
}

// take empties the batch: its levels appended to bids and asks, best
// first, and its U (0: nothing changed since the last push).
func (b *depthBatch) take(bids, asks []level) (_, _ []level, first uint64) {
	first, b.first = b.first, 0
	for p, q := range b.bids {
		bids = append(bids, level{p, q})
	}
	for p, q := range b.asks {
		asks = append(asks, level{p, q})
	}
	clear(b.bids)
	clear(b.asks)
	slices.SortFunc(bids, func(x, y level) int { return cmp.Compare(y.price, x.price) })
	slices.SortFunc(asks, func(x, y level) int { return cmp.Compare(x.price, y.price) })
	return bids, asks, first
}

// noteDepth adds a change of s's book, the ids first to s.updID, to each
// depth stream's batch, each level's quantity the grid's there (changed
// in place to the public one: our resting orders' added). Caller holds
// the market lock.
func (s *symbolState) noteDepth(bids, asks []level, first uint64, gap bool) {
	s.withOwn(bids, true) // the public levels: ours in them (ownbook.go)
	s.withOwn(asks, false)
	s.depthSlow.note(bids, asks, first, gap)
	s.depthFast.note(bids, asks, first, gap)
	s.okxBooks.note(bids, asks, first, gap)
}

// depthPush is one batched diff of a tick: its stream and payload.
type depthPush struct {
	stream  string
	payload []byte
}

// depthTick pushes, at ms, each symbol's changes batched since the last
// push: at a tick of the 1000 ms cadence (slow) on <symbol>@depth, at one
// of the 100 ms cadence (fast) on <symbol>@depth@100ms and OKX's books.
// Runs on the generator's goroutine (its wire), holding the stepping lock
// so that an OKX books subscription, which takes its snapshot under it,
// never falls between a batch's formatting and its push; the market paused
// or not (a fill changes the book of a paused market too).
func (v *Venue) depthTick(ms int64, slow, fast bool) {
	v.stepping.Lock()
	defer v.stepping.Unlock()
	m := v.mkt
	pushes := v.depthPushes[:0]
	okx := v.okxConns.Load() > 0
	m.mu.Lock()
	for _, s := range m.symbols {
		if slow {
			pushes = v.appendBatch(pushes, s, &s.depthSlow, "", ms)
		}
		if fast {
			pushes = v.appendBatch(pushes, s, &s.depthFast, partialFastSuffix, ms)
			bids, asks, first := s.okxBooks.take(v.depthBids[:0], v.depthAsks[:0])
			v.depthBids, v.depthAsks = bids, asks
			if first != 0 && okx {
				pushes = append(pushes, depthPush{"books:" + s.instID(), v.okxBook(s, "update", ms, bids, asks, int64(first)-1, s.updID)})
				s.okxBookAt = ms // the keep-alive counts from the last push
			}
		}
	}
	m.mu.Unlock()
	for _, p := range pushes {
		v.broadcast([]string{p.stream}, p.payload)
	}
	clear(pushes)
	v.depthPushes = pushes
}

// appendBatch formats s's batch b as a depthUpdate of <symbol>@depth
// followed by speed ("" or "@100ms") at ms, when anything changed since
// its last push (caller holds the market lock). The stream's name is made
// only then: a tick with nothing to push allocates nothing.
func (v *Venue) appendBatch(pushes []depthPush, s *symbolState, b *depthBatch, speed string, ms int64) []depthPush {
	bids, asks, first := b.take(v.depthBids[:0], v.depthAsks[:0])
	v.depthBids, v.depthAsks = bids, asks
	if first == 0 {
		return pushes
	}
	return append(pushes, depthPush{s.lower + "@depth" + speed, v.gen.appendDepthUpdate(nil, s, ms, bids, asks, first, s.updID)})
}

// okxFlushBooks pushes s's OKX books batch at once, before a books
// subscription's snapshot: the next update of the new subscriber is then
// chained on the snapshot's seqId (prevSeqId = its seqId), as OKX chains
// the updates after a snapshot. Caller holds the stepping and market
// locks; the payload is returned for the caller to push after the latter.
func (v *Venue) okxFlushBooks(s *symbolState, now time.Time) []byte {
	bids, asks, first := s.okxBooks.take(nil, nil)
	if first == 0 {
		return nil
	}
	ms := now.UnixMilli()
	s.okxBookAt = ms
	return v.okxBook(s, "update", ms, bids, asks, int64(first)-1, s.updID)
}
