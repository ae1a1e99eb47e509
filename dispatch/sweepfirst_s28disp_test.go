package dispatch

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestS28ManyFirstQuotesAtOnceKeepSlots: a subscriber to many more
// coalescable streams than the sweep's floor that all quote first at once,
// then in turn (a host following 100k options, at start), keeps one slot
// per stream once they have all quoted twice. The streams age one another
// on their first round, the sweep forgets the first ones, and, counted as
// new streams when they quote again, they aged the rest: each quote found
// its slot forgotten and made it again (an allocation and a map insertion
// per quote, under the subscription's lock), for good. A stream whose slot
// was forgotten is remembered (a fixed-size sketch) and its return does
// not age the others.
func TestS28ManyFirstQuotesAtOnceKeepSlots(t *testing.T) {
	b := newBBOBench(t)
	const live = 3*minSlots + 500
	round := func() {
		for i := range live {
			b.pub("OPT-" + strconv.Itoa(i))
			if i%1024 == 0 {
				b.caughtUp()
			}
		}
		b.caughtUp()
	}
	slotsOf := func() map[string]*slot {
		m := make(map[string]*slot, live)
		for i := range live {
			m["OPT-"+strconv.Itoa(i)] = b.slotOf("OPT-" + strconv.Itoa(i))
		}
		return m
	}
	for range 3 {
		round()
	}
	was := slotsOf()
	round()
	round()
	now := slotsOf()
	made := 0
	for sym, sl := range now {
		if sl == nil || sl != was[sym] {
			made++
		}
	}
	t.Logf("slots made again over 2 rounds: %d of %d streams; slots held %d", made, live, b.slots())
	require.Zero(t, made, "streams quoting in turn had their slots forgotten and made again")
	require.LessOrEqual(t, b.slots(), 4*live)
	closeDispatcher(t, b.d)
}
