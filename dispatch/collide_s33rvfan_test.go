package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s33rvfanCollide makes slotHash keep only the bits of mask for the rest
// of the test, so that streams share a table entry, chained. Not for
// parallel tests: the mask is the package's.
func s33rvfanCollide(t *testing.T, mask uint64) {
	t.Helper()
	old := slotHashMask
	slotHashMask = mask
	t.Cleanup(func() { slotHashMask = old })
}

// s33rvfanStreams are coalescable streams that differ in one part of
// their key each: symbol, venue, type, a book top's depth, a ticker's
// window (full and mini ticker of one symbol), a kline's interval.
var s33rvfanStreams = []struct {
	venue  schema.Venue
	symbol string
	typ    schema.EventType
	depth  int
	window bool
	iv     string
}{
	{bin, "BTC-USDT", schema.EventBBO, 0, false, ""},
	{bin, "ETH-USDT", schema.EventBBO, 0, false, ""},
	{schema.VenueOKX, "BTC-USDT", schema.EventBBO, 0, false, ""},
	{bin, "BTC-USDT", schema.EventBBO, 5, false, ""},
	{bin, "BTC-USDT", schema.EventTicker, 0, true, ""},
	{bin, "BTC-USDT", schema.EventTicker, 0, false, ""},
	{bin, "ETH-USDT", schema.EventTicker, 0, false, ""},
	{bin, "BTC-USDT", schema.EventKlineLive, 0, false, "1m"},
	{bin, "BTC-USDT", schema.EventKlineLive, 0, false, "5m"},
	{bin, "BTC-USDT", schema.EventMarkPrice, 0, false, ""},
	{bin, "BTC-USDT", schema.EventFundingRate, 0, false, ""},
}

// s33rvfanQuote fills ev as round r of stream i: every value it carries
// names both, and odd rounds carry a trade section and a longer payload
// beside their own (the in-place copy must clear the one and may not fit
// the other).
func s33rvfanQuote(ev *schema.CanonicalEvent, i, r int) {
	st := s33rvfanStreams[i]
	v := int64(i*1000 + r)
	ev.Venue, ev.Symbol, ev.Type = st.venue, st.symbol, st.typ
	ev.SeqProvider, ev.ExchangeTS, ev.IngestTS = uint64(v), v, v
	ev.Book.Depth, ev.UseKline().Interval = st.depth, st.iv
	ev.Raw = fmt.Appendf(ev.Raw[:0], `{"i":%d,"r":%d}`, i, r)
	switch st.typ {
	case schema.EventBBO:
		ev.BBO.BidPrice, ev.BBO.AskPrice = schema.NewDecimal(v, 1), schema.NewDecimal(v+1, 1)
	case schema.EventTicker:
		ev.UseTicker().Last = schema.NewDecimal(v, 2)
		if st.window {
			ev.UseTicker().WindowOpen, ev.UseTicker().WindowClose = v, v+1
			ev.UseTicker().BidPrice = schema.NewDecimal(v, 3)
		}
	case schema.EventKlineLive:
		ev.UseKline().Close = schema.NewDecimal(v, 2)
	default:
		ev.UseMark().MarkPrice, ev.UseMark().FundingRate = schema.NewDecimal(v, 4), schema.NewDecimal(v, 6)
	}
	if r%2 == 1 {
		ev.Trade.Price, ev.Trade.Side = schema.NewDecimal(v, 0), schema.SideSell
		ev.Raw = append(ev.Raw, `,"pad":"................................................................"`...)
	}
}

func s33rvfanWant(i, r int) *schema.CanonicalEvent {
	ev := new(schema.CanonicalEvent)
	s33rvfanQuote(ev, i, r)
	return ev
}

// Streams of one slotHash (every stream, or two table entries) keep
// their own quotes: a slow subscriber gets each stream once, as its
// latest round, with nothing of another stream's or of its own older
// rounds (a trade section, a longer payload). Before slots were chained,
// a table keyed by the hash alone would let one stream replace another's
// quote: findSlotLocked returning the entry's head whatever its key fails
// here.
func TestS33rvfanCollidingStreamsKeepTheirOwnQuotes(t *testing.T) {
	for _, mask := range []uint64{0, 1} {
		t.Run(fmt.Sprintf("mask=%d", mask), func(t *testing.T) {
			s33rvfanCollide(t, mask)
			p := newEventPool(8)
			d := New(p, nil)
			r, s := stalled(t, d, p, SubscribeOptions{}, schema.EventTrade)
			const rounds = 6
			for round := 1; round <= rounds; round++ {
				for i := range s33rvfanStreams {
					ev, err := p.TryGet()
					require.NoError(t, err)
					s33rvfanQuote(ev, i, round)
					require.NoError(t, d.Publish(context.Background(), ev))
				}
			}
			n := len(s33rvfanStreams)
			st := s.Stats()
			assert.Equal(t, n, st.Coalescing, "one quote queued per stream")
			assert.Equal(t, uint64(n*(rounds-1)), st.Coalesced)
			s.mu.Lock()
			assert.Len(t, s.slotList, n)
			if mask == 0 {
				assert.Len(t, s.slots, 1, "every stream in one chain")
			}
			s.mu.Unlock()
			r.open()
			closeDispatcher(t, d)
			got := r.got()
			require.Len(t, got, 1+n)
			for i, ev := range got[1:] {
				assert.Equal(t, unheadered(s33rvfanWant(i, rounds)), unheadered(ev), "stream %d", i)
			}
		})
	}
}

// A gap marker about one coalescable stream drops that stream's queued
// quote only, whatever shares its hash: the book top of another depth,
// the tickers of another symbol. One naming no window drops both
// tickers of its symbol (see windowed). An Unsubscribe then releases
// the quotes still queued in the chain, each counted once.
func TestS33rvfanGapMarkerEmptiesItsStreamOnlyInAChain(t *testing.T) {
	s33rvfanCollide(t, 0)
	p := newEventPool(8)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{}, schema.EventTrade)
	for i := range s33rvfanStreams {
		ev, err := p.TryGet()
		require.NoError(t, err)
		s33rvfanQuote(ev, i, 2)
		require.NoError(t, d.Publish(context.Background(), ev))
	}
	marker := func(sym string, typ schema.EventType, depth int) {
		ev, err := p.TryGet()
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type = bin, sym, schema.EventGap
		ev.Book.Depth = depth
		ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: typ, GapCount: 1, GapSource: schema.GapVenue}
		require.NoError(t, d.Publish(context.Background(), ev))
	}
	queued := func() []string {
		s.mu.Lock()
		defer s.mu.Unlock()
		var out []string
		for i, st := range s33rvfanStreams {
			k := routeKey{venue: st.venue, symbol: st.symbol, typ: st.typ, depth: st.depth, interval: st.iv}
			if st.window {
				k.depth = windowed
			}
			if sl := s.slotOf(k); sl != nil && sl.ev != nil {
				require.Equal(t, uint64(i*1000+2), sl.ev.SeqProvider, "stream %d holds another's quote", i)
				out = append(out, strconv.Itoa(i))
			}
		}
		return out
	}
	require.Equal(t, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, queued())
	marker("BTC-USDT", schema.EventBBO, 5) // the book top of depth 5, not the BBO of depth 0
	assert.Equal(t, []string{"0", "1", "2", "4", "5", "6", "7", "8", "9", "10"}, queued())
	marker("BTC-USDT", schema.EventTicker, 0) // both tickers of BTC-USDT, not ETH-USDT's
	assert.Equal(t, []string{"0", "1", "2", "6", "7", "8", "9", "10"}, queued())
	marker("BTC-USDT", schema.EventKlineLive, 0) // names no interval: the stream without one, none here
	assert.Equal(t, []string{"0", "1", "2", "6", "7", "8", "9", "10"}, queued())
	st := s.Stats()
	assert.Equal(t, 8, st.Coalescing)
	assert.Equal(t, uint64(3), st.Coalesced)
	require.NoError(t, d.Unsubscribe(s))
	assert.Equal(t, uint64(3+8), s.Stats().Discarded, "the markers and the quotes still queued")
	r.open()
	waitDone(t, s)
	closeDispatcher(t, d)
}

// The sweep forgets quiet streams' slots out of their chains under churn:
// with 64 table entries for thousands of streams, every slot held is found
// by its own key and found once, every chained slot is held, the slots
// stay within the sweep's bound (sweepSlotsLocked: 4 × the streams that
// keep quoting, or about 2 × minSlots), and streams that keep quoting keep
// their slot and get their latest quote.
func TestS33rvfanChainsUnderChurn(t *testing.T) {
	s33rvfanCollide(t, 63)
	s := newSubscription(nil, 1, Filter{}, SubscribeOptions{})
	const live, fresh = 512, 1024
	rounds := 24
	if raceEnabled {
		// The sweep begins at minSlots (round 4) and forgets from about
		// round 8; a table that kept quiet streams' slots passes the
		// bound below (2 x minSlots + fresh) in round 9, one that left
		// a forgotten slot chained fails check at the first: 14 rounds
		// still catch both.
		rounds = 14
	}
	liveKey := func(i int) string { return "LIVE-" + strconv.Itoa(i) }
	var kept []*slot
	quote := func(sym string, seq uint64) {
		src := &schema.CanonicalEvent{Venue: bin, Symbol: sym, Type: schema.EventBBO, SeqProvider: seq}
		src.BBO.BidPrice = schema.NewDecimal(int64(seq), 2)
		cl := newClones(src, 1)
		s.coalesceLocked(&cl)
	}
	check := func() {
		// Plain comparisons over every slot: testify's, thousands a
		// round, took most of the test's time under the race detector.
		chained := 0
		for h, head := range s.slots {
			require.NotNil(t, head)
			for sl := head; sl != nil; sl = sl.next {
				if sl.hash != h || slotHash(sl.key) != sl.hash {
					t.Fatalf("slot %v chained under %#x, its hash %#x, its key's %#x", sl.key, h, sl.hash, slotHash(sl.key))
				}
				if sl.at >= len(s.slotList) || s.slotList[sl.at] != sl {
					t.Fatalf("a chained slot not held: %v at %d", sl.key, sl.at)
				}
				chained++
			}
		}
		require.Equal(t, len(s.slotList), chained)
		for i, sl := range s.slotList {
			if sl.at != i || s.findSlotLocked(sl.key, sl.hash) != sl {
				t.Fatalf("slot %d (%v): at %d, or not found by its key", i, sl.key, sl.at)
			}
		}
		require.LessOrEqual(t, len(s.slotList), max(4*live, 2*minSlots+fresh))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := uint64(0)
	for round := range rounds {
		for i := range fresh { // new streams, each quoting once
			seq++
			quote("NEW-"+strconv.Itoa(round)+"-"+strconv.Itoa(i), seq)
			require.NotNil(t, s.popLocked())
			if i%(fresh/live) == 0 { // every live stream twice: the second replaces the first in place
				sym := liveKey(i / (fresh / live))
				quote(sym, seq*10)
				quote(sym, seq*10+1)
				ev := s.popLocked()
				require.Equal(t, sym, ev.Symbol)
				require.Equal(t, seq*10+1, ev.SeqProvider)
				require.Equal(t, schema.NewDecimal(int64(seq*10+1), 2), ev.BBO.BidPrice)
			}
		}
		// A slot left chained or not chained stays so: the race
		// detector's run checks every other round, and the last.
		if !raceEnabled || round%2 == 1 || round == rounds-1 {
			check()
		}
		if round == 0 {
			for i := range live {
				kept = append(kept, s.slotOf(routeKey{venue: bin, symbol: liveKey(i), typ: schema.EventBBO}))
			}
		}
	}
	for i, sl := range kept {
		require.Same(t, sl, s.slotOf(routeKey{venue: bin, symbol: liveKey(i), typ: schema.EventBBO}), "live stream %d lost its slot", i)
	}
	require.Zero(t, s.coalN)
}

// Publishers, a subscriber taking quotes off its channel and Close, all at
// once, with every stream in two chains: a stream's quotes reach the
// subscriber in the order published, never an older after a newer, each
// whole (its price and payload of one round: a quote copied into while
// the subscriber held it would be torn), and Close delivers each stream's
// last. Run under -race.
func TestS33rvfanNeverStaleUnderConcurrency(t *testing.T) {
	s33rvfanCollide(t, 1)
	const pubs, streams, rounds = 4, 8, 400
	p := newEventPool(64)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)
	type last struct{ seq, n uint64 }
	got := make(map[string]*last)
	var bad []string
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for ev := range s.C() {
			l := got[ev.Symbol]
			if l == nil {
				l = &last{}
				got[ev.Symbol] = l
			}
			if ev.SeqProvider <= l.seq {
				bad = append(bad, fmt.Sprintf("%s: %d after %d", ev.Symbol, ev.SeqProvider, l.seq))
			}
			if ev.BBO.BidPrice != schema.NewDecimal(int64(ev.SeqProvider), 1) || string(ev.Raw) != strconv.FormatUint(ev.SeqProvider, 10)+strings.Repeat(" ", int(ev.SeqProvider%3*40)) {
				bad = append(bad, fmt.Sprintf("%s: torn at %d: %v %q", ev.Symbol, ev.SeqProvider, ev.BBO.BidPrice, ev.Raw))
			}
			l.seq = ev.SeqProvider
			l.n++
		}
	}()
	var wg sync.WaitGroup
	for w := range pubs {
		wg.Go(func() {
			ctx := context.Background()
			for r := 1; r <= rounds; r++ {
				for k := range streams {
					ev, err := p.Get(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					ev.Venue, ev.Symbol, ev.Type = bin, "S"+strconv.Itoa(w*streams+k), schema.EventBBO
					ev.SeqProvider = uint64(r)
					ev.BBO.BidPrice = schema.NewDecimal(int64(r), 1)
					ev.Raw = strconv.AppendUint(ev.Raw[:0], uint64(r), 10)
					// Payloads of several sizes: some replacements fit, some do not.
					ev.Raw = append(ev.Raw, strings.Repeat(" ", r%3*40)...)
					if err := d.Publish(ctx, ev); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	closeDispatcher(t, d)
	<-consumed
	assert.Empty(t, bad)
	require.Len(t, got, pubs*streams)
	for sym, l := range got {
		assert.Equal(t, uint64(rounds), l.seq, "%s: Close did not deliver its last quote", sym)
	}
}

// s33rvfanLeaves lists the paths (field indexes) of every field of v's
// type that is not a struct, through nested structs and the out-of-line
// sections (pointers to structs): all of the event's values, one by one.
// Skipped: the pool header, the payload slices and a pooled event's kept
// storage (never a clone's).
func s33rvfanLeaves(t reflect.Type, path []int, out *[][]int) {
	for i := range t.NumField() {
		f := t.Field(i)
		switch f.Name {
		case "Header", "Raw", "Bids", "Asks", "kept":
			continue
		}
		p := append(append([]int(nil), path...), i)
		switch {
		case f.Type.Kind() == reflect.Struct:
			s33rvfanLeaves(f.Type, p, out)
			continue
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
			s33rvfanLeaves(f.Type.Elem(), p, out)
			continue
		}
		*out = append(*out, p)
	}
}

// s33rvfanAt is v's field at path, making the out-of-line sections on the
// way (the event then carries them, zero but for what the caller sets).
func s33rvfanAt(v reflect.Value, path []int) reflect.Value {
	for _, i := range path {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v
}

// s33rvfanPayload gives ev two levels a side and eight raw bytes: the
// same room as every other event of the test, so that copyInto fits.
func s33rvfanPayload(ev *schema.CanonicalEvent, b byte) *schema.CanonicalEvent {
	for i := range 2 {
		ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.NewDecimal(int64(100-i), 0), Qty: schema.NewDecimal(int64(b), 0)})
		ev.Book.Asks = append(ev.Book.Asks, schema.Level{Price: schema.NewDecimal(int64(101+i), 0), Qty: schema.NewDecimal(int64(b), 0)})
	}
	ev.Raw = bytes.Repeat([]byte{b}, 8)
	return ev
}

// Every value of the event, alone (no other section set, the book's
// update ids included), is cloned and replaced in place whole: a slab
// clone of it equals schema's Clone, copyInto over a quote of another
// kind gives it exactly, and copyInto of that quote over it leaves
// nothing of it. The tests of the event's top-level fields fill a book
// with update ids beside whatever they test (payloadEvent's LastSeq), so
// a book field forgotten by sectionsOf (Depth, say: a book top of depth 5
// whose section passes for empty) was never seen alone and passed them;
// here it fails.
func TestS33rvfanEveryValueAloneClonedAndReplaced(t *testing.T) {
	t.Parallel()
	var leaves [][]int
	s33rvfanLeaves(reflect.TypeFor[schema.CanonicalEvent](), nil, &leaves)
	require.Greater(t, len(leaves), 60)
	other := func() *schema.CanonicalEvent {
		ev := &schema.CanonicalEvent{Venue: bin, Symbol: "OTHER", Type: schema.EventBBO, SeqProvider: 5, IngestTS: 6}
		ev.BBO.BidPrice, ev.BBO.AskQty = schema.NewDecimal(7, 1), schema.NewDecimal(8, 1)
		return s33rvfanPayload(ev, 'o')
	}
	for _, path := range leaves {
		name := reflect.TypeFor[schema.CanonicalEvent]().Field(path[0]).Name
		t.Run(fmt.Sprint(path, name), func(t *testing.T) {
			alone := s33rvfanPayload(new(schema.CanonicalEvent), 'a')
			var n int
			fillNonZero(s33rvfanAt(reflect.ValueOf(alone).Elem(), path), &n)
			require.NotEqual(t, unheadered(s33rvfanPayload(new(schema.CanonicalEvent), 'a')), unheadered(alone))

			cl := newClones(alone, 1)
			assert.Equal(t, unheadered(alone.Clone()), unheadered(cl.take()), "slab clone")

			o := other()
			ocl := newClones(o, 1)
			dst := ocl.take()
			require.True(t, copyInto(dst, alone, ocl.sections, cl.sections))
			assert.Equal(t, unheadered(alone.Clone()), unheadered(dst), "replacing another quote")

			acl := newClones(alone, 1)
			dst = acl.take()
			require.True(t, copyInto(dst, o, acl.sections, ocl.sections))
			assert.Equal(t, unheadered(o.Clone()), unheadered(dst), "replaced by another quote")
		})
	}
}

// Close while publishers are still publishing, every stream in two
// chains: a Publish that returned nil was taken (queued or replacing the
// queued quote in place), one that returned ErrClosed was refused, so the
// last quote a stream's subscriber gets is the last one accepted — never
// an older one, never one refused, never none — and each arrives whole.
func TestS33rvfanCloseMidPublishDeliversTheLastAccepted(t *testing.T) {
	s33rvfanCollide(t, 1)
	const pubs, streams = 4, 8
	p := newEventPool(64)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)
	got := make(map[string]uint64)
	var bad []string
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for ev := range s.C() {
			if ev.SeqProvider <= got[ev.Symbol] {
				bad = append(bad, fmt.Sprintf("%s: %d after %d", ev.Symbol, ev.SeqProvider, got[ev.Symbol]))
			}
			if ev.BBO.BidPrice != schema.NewDecimal(int64(ev.SeqProvider), 1) || string(ev.Raw) != strconv.FormatUint(ev.SeqProvider, 10) {
				bad = append(bad, fmt.Sprintf("%s: torn at %d", ev.Symbol, ev.SeqProvider))
			}
			got[ev.Symbol] = ev.SeqProvider
		}
	}()
	accepted := make([][streams]uint64, pubs)
	started := make(chan struct{}, pubs)
	var wg sync.WaitGroup
	for w := range pubs {
		wg.Go(func() {
			ctx := context.Background()
			for r := uint64(1); ; r++ {
				if r == 100 {
					started <- struct{}{}
				}
				for k := range streams {
					ev, err := p.Get(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					ev.Venue, ev.Symbol, ev.Type = bin, "S"+strconv.Itoa(w*streams+k), schema.EventBBO
					ev.SeqProvider = r
					ev.BBO.BidPrice = schema.NewDecimal(int64(r), 1)
					ev.Raw = strconv.AppendUint(ev.Raw[:0], r, 10)
					switch err := d.Publish(ctx, ev); {
					case err == nil:
						accepted[w][k] = r
					case errors.Is(err, ErrClosed):
						return
					default:
						t.Error(err)
						return
					}
				}
			}
		})
	}
	for range pubs {
		<-started
	}
	closeDispatcher(t, d)
	wg.Wait()
	<-consumed
	assert.Empty(t, bad)
	for w := range pubs {
		for k := range streams {
			sym := "S" + strconv.Itoa(w*streams+k)
			assert.Equal(t, accepted[w][k], got[sym], "%s: the last quote delivered is not the last accepted", sym)
		}
	}
}
