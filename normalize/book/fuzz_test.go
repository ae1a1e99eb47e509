package book

import (
	"context"
	"testing"
	"time"

	"github.com/meltica/meltica/schema"
)

var fuzzRules = []Rule{Binance, OKX, KrakenV1, KrakenV2, Bybit, Coinbase}

// FuzzApply feeds arbitrary sequences of snapshots, diffs, gap markers and
// connection states (venue input, as parsers pass it on) to every rule's
// book: nothing panics, every pooled event comes back, and the book keeps
// its invariants — sides sorted best first without zero quantities,
// within the subscribed depth, never crossed while live.
func FuzzApply(f *testing.F) {
	f.Add([]byte{1, 0, 10, 0, 0, 3, 5, 1, 11, 0, 1, 4, 1, 2})
	f.Add([]byte{4, 0, 1, 0, 0, 9, 9, 1, 2, 0, 0, 1, 1, 1, 3, 1, 0, 0, 2, 2})
	f.Add([]byte{0, 1, 200, 150, 0, 7, 1, 1, 201, 0, 200, 7, 0, 3, 0})
	f.Add([]byte{4, 0, 10, 0, 0, 3, 2, 1, 1, 0, 5, 1, 0, 11, 0, 0, 1, 2, 1, 9, 1, 0})
	f.Add([]byte{11, 0, 10, 0, 0, 3, 4, 1, 9, 0, 1, 4, 1, 2, 1, 7, 0, 1, 3, 1, 6, 0, 1, 2, 1, 5, 1, 1, 1, 4, 1, 1}) // Coinbase, MaxLevels 3
	f.Fuzz(runFuzzApply)
}

func runFuzzApply(t *testing.T, data []byte) {
	{
		if len(data) < 1 {
			return
		}
		rule := fuzzRules[int(data[0])%len(fuzzRules)]
		maxLevels := 0 // the default
		if data[0]/byte(len(fuzzRules))%2 == 1 {
			maxLevels = 3 // a side cut to MaxLevels: a range of its own
			if rule.Checksum != ChecksumNone {
				maxLevels = rule.ChecksumDepth // the least NewBook takes (ErrMaxLevels)
			}
		}
		data = data[1:]
		events := schema.NewPools(nil).Events
		clk := newStepClock() // a second a message: silent after three quiet ones
		o := &Options{Sink: &sinkPut{events: events}, Events: events, MaxBuffer: 4, FetchAttempts: 2, MaxLevels: maxLevels, MaxSilence: 3 * time.Second, Clock: clk}
		if rule.Resync == ResyncFetch {
			o.Fetcher = FetcherFunc(func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
				dst.Book.LastSeq = 100
				dst.Book.Bids = append(dst.Book.Bids, lvl("5", "1"))
				dst.Book.Asks = append(dst.Book.Asks, lvl("6", "1"))
				return nil
			})
		}
		o.Resubscribe = func(context.Context, schema.Venue, string) error { return nil }
		b, err := NewBook(rule, "BTC-USDT", o)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		next := func() uint64 {
			if len(data) == 0 {
				return 0
			}
			v := uint64(data[0])
			data = data[1:]
			return v
		}
		var ingest int64
		for len(data) > 0 {
			ingest += 1e6
			ev := &schema.CanonicalEvent{Venue: rule.Venue, Symbol: "BTC-USDT", IngestTS: ingest}
			switch next() % 6 {
			case 0:
				ev.Type = schema.EventBookSnapshot
			case 1, 2:
				ev.Type = schema.EventBookUpdate
			case 3:
				ev.Type, ev.UseControl().GapType = schema.EventGap, schema.EventBookUpdate
			case 4:
				ev.Type = schema.EventConnState
				if s := schema.ConnState(next() % 8); s != schema.ConnUnknown {
					ev.UseControl().State = s
				} // ConnUnknown: a host's event without its Control (nil since issue #15), which reads as it
			case 5:
				ev.Type, ev.Symbol = schema.EventGap, ""
			}
			ev.Book.LastSeq, ev.Book.FirstSeq, ev.Book.PrevSeq = next()*3, next()*3, next()*3
			if c := next(); c%3 == 0 {
				ev.Book.Checksum, ev.Book.HasChecksum = uint32(c), true
			} else if c%7 == 1 {
				ev.Book.Depth = int(c % 60) // a view the book may not follow
			}
			for n := next() % 5; n > 0; n-- {
				l := schema.Level{Price: schema.NewDecimal(int64(next()), int(next()%3)), Qty: schema.NewDecimal(int64(next()%4), 0)}
				if next()%2 == 0 {
					ev.Book.Bids = append(ev.Book.Bids, l)
				} else {
					ev.Book.Asks = append(ev.Book.Asks, l)
				}
			}
			_ = b.Apply(ctx, ev)
			clk.step(time.Second)
			checkSides(t, b)
			checkBuffer(t, b)
			// The book's age is that of a message it was given, and none
			// while it is not live (a silent book keeps its age).
			b.mu.Lock()
			live, silent := b.live, b.silent
			b.mu.Unlock()
			if _, in := b.Updated(); (in != 0) != live || in > ingest || in < 0 {
				t.Fatalf("Updated %d with live %v at ingest %d", in, live, ingest)
			}
			if b.Live() != (live && !silent) || (silent && !live) {
				t.Fatalf("Live %v with live %v, silent %v", b.Live(), live, silent)
			}
		}
		if n := events.Stats().InUse; n != 0 {
			t.Fatalf("%d events not returned", n)
		}
	}
}

// checkBuffer: the ring holds at most MaxBuffer diffs, and pendLv is the
// levels they hold.
func checkBuffer(t *testing.T, b *Book) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.npend > b.o.MaxBuffer || b.npend > len(b.pending) || b.phead < 0 || (len(b.pending) > 0 && b.phead >= len(b.pending)) {
		t.Fatalf("buffer: %d diffs in %d slots from %d, MaxBuffer %d", b.npend, len(b.pending), b.phead, b.o.MaxBuffer)
	}
	lv := 0
	for i := range b.npend {
		lv += len(b.pend(i).Bids) + len(b.pend(i).Asks)
	}
	if lv != b.pendLv {
		t.Fatalf("buffer: %d levels held, pendLv %d", lv, b.pendLv)
	}
}

func checkSides(t *testing.T, b *Book) {
	t.Helper()
	// Every side within MaxLevels, and nothing kept beyond its range.
	b.mu.Lock()
	nb, na := b.bids.len(), b.asks.len()
	farBid := b.hasFloor && nb > 0 && b.bids.lv[0].Price.Cmp(b.floor) < 0
	farAsk := b.hasCeil && na > 0 && b.asks.lv[0].Price.Cmp(b.ceil) > 0
	m := max(b.o.MaxLevels, b.keep()) // a view bounds a book of views
	b.mu.Unlock()
	if nb > m || na > m {
		t.Fatalf("%d bids, %d asks past MaxLevels %d", nb, na, m)
	}
	if farBid || farAsk {
		t.Fatalf("a level beyond the range kept (bid %v, ask %v)", farBid, farAsk)
	}
	var top schema.CanonicalEvent
	live := b.Top(0, &top)
	for name, side := range map[string][]schema.Level{"bids": top.Book.Bids, "asks": top.Book.Asks} {
		if b.rule.Depth > 0 && len(side) > b.rule.Depth {
			t.Fatalf("%s: %d levels past depth %d", name, len(side), b.rule.Depth)
		}
		for i, l := range side {
			if l.Qty.IsZero() {
				t.Fatalf("%s: zero quantity kept at %s", name, l.Price)
			}
			if i == 0 {
				continue
			}
			c := side[i-1].Price.Cmp(l.Price)
			if (name == "bids" && c <= 0) || (name == "asks" && c >= 0) {
				t.Fatalf("%s out of order: %s then %s", name, side[i-1].Price, l.Price)
			}
		}
	}
	if live && len(top.Book.Bids) > 0 && len(top.Book.Asks) > 0 && top.Book.Bids[0].Price.Cmp(top.Book.Asks[0].Price) >= 0 {
		t.Fatalf("live and crossed: %s ≥ %s", top.Book.Bids[0].Price, top.Book.Asks[0].Price)
	}
}
