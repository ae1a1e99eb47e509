package natsbridge

// maxSeqGaps bounds the ranges a seqGaps keeps.
const maxSeqGaps = 256

// seqGaps records, of the stream read, the stream sequences at or below
// top that this Consumer did not handle: reports delivered elsewhere (a
// Consumer sharing the Durable, a link that died with MaxAckPending above
// 1) and not handled here since, reports removed, other subjects'. A
// replay of the durable consumer (execReplayTo) drops by stream sequence
// only what is not in a gap: a report no one handed on is never dropped
// as a duplicate. At most maxSeqGaps ranges: past that the two lowest are
// merged into one, which reads the reports handled between them as not
// handled — a replay hands them on again (a duplicate, never a loss).
// Under execMu.
type seqGaps struct {
	top  uint64      // highest sequence accounted for: handled, or the ack floor at start
	gaps [][2]uint64 // sorted, disjoint, inclusive ranges below top not handled
}

// reset starts the record at top: every sequence at or below it is
// handled (the durable consumer's ack floor at start; 0: another stream).
func (g *seqGaps) reset(top uint64) {
	g.top, g.gaps = top, g.gaps[:0]
}

// handled records that the report at stream sequence seq was handled.
func (g *seqGaps) handled(seq uint64) {
	if seq == 0 {
		return
	}
	if seq > g.top {
		if seq > g.top+1 {
			g.gaps = append(g.gaps, [2]uint64{g.top + 1, seq - 1})
			g.bound()
		}
		g.top = seq
		return
	}
	i := g.find(seq)
	if i < 0 {
		return
	}
	switch r := g.gaps[i]; {
	case r[0] == seq && r[1] == seq:
		g.gaps = append(g.gaps[:i], g.gaps[i+1:]...)
	case r[0] == seq:
		g.gaps[i][0]++
	case r[1] == seq:
		g.gaps[i][1]--
	default:
		g.gaps = append(g.gaps, [2]uint64{})
		copy(g.gaps[i+2:], g.gaps[i+1:])
		g.gaps[i] = [2]uint64{r[0], seq - 1}
		g.gaps[i+1] = [2]uint64{seq + 1, r[1]}
		g.bound()
	}
}

// has reports whether seq, at or below top, was not handled.
func (g *seqGaps) has(seq uint64) bool {
	return g.find(seq) >= 0
}

// find returns the index of the range holding seq, or -1.
func (g *seqGaps) find(seq uint64) int {
	lo, hi := 0, len(g.gaps)
	for lo < hi {
		mid := (lo + hi) / 2
		switch r := g.gaps[mid]; {
		case seq < r[0]:
			hi = mid
		case seq > r[1]:
			lo = mid + 1
		default:
			return mid
		}
	}
	return -1
}

// bound merges the two lowest ranges while there are too many.
func (g *seqGaps) bound() {
	for len(g.gaps) > maxSeqGaps {
		g.gaps[1][0] = g.gaps[0][0]
		g.gaps = append(g.gaps[:0], g.gaps[1:]...) // in place: no allocation once grown
	}
}

// unreceived reports whether a sequence past floor, up to last, is in a
// range not handled and not at door (received, waiting for execMu): of
// the reports the durable consumer waits for the acks of, one this
// Consumer may never have received (resetUnreceived).
func (g *seqGaps) unreceived(floor, last uint64, door *execDoor) bool {
	for _, r := range g.gaps {
		lo, hi := max(r[0], floor+1), min(r[1], last)
		if lo <= hi && uint64(door.waiting(lo-1, hi)) <= hi-lo {
			return true
		}
	}
	return false
}
