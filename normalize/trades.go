package normalize

import (
	"context"
	"time"

	"github.com/meltica/meltica/schema"
)

// Trade repeats.
//
// A venue sends a trade again: the overlap of a make-before-break
// rotation whose frames differ per connection (Coinbase Advanced Trade
// stamps each frame with the connection's sequence_num, so wsclient cannot
// align the two streams on identical frames), the recent trades a venue
// sends on every subscription (Coinbase market_trades and Kraken v2 trade
// snapshots, Coinbase Exchange last_match), a reconnection's overlap.
// Where the venue's trade ids increase per symbol (venueSpec.tradeIDs), the
// parser remembers, per (symbol, message kind), the highest id it
// delivered and the latest trade time, and drops a trade whose id is at
// most that id as a repeat (Stats.Repeats): never a gap, never an event.
//
// The rule never drops a genuine trade:
//   - the ids of one frame are compared with where the stream stood before
//     the frame, so a batch in any order (Coinbase does not say its order)
//     is delivered whole;
//   - a trade at or below the highest id but later (ExchangeTS) than every
//     trade delivered is not a repeat — a repeat has the time it had when
//     it was delivered — but a venue that started its ids again: it is
//     delivered and the stream follows its new numbering;
//   - a trade stamped more than tradeFutureSlack past its receive time
//     (IngestTS, when it is a wall-clock reading) — a venue's bad clock,
//     year 2100 — marks its receive time instead of its own: one such
//     trade once made every later restart of the ids read as repeats,
//     for good. Such a trade at or below the highest id is no proof of
//     new ids: it is dropped as a repeat (the far-future trade itself,
//     sent again);
//   - a trade whose id is not a decimal number (Bybit's UUIDs, Kraken v1,
//     which sends none) is never compared. Kraken v1 trades are not
//     compared by (time, price, volume, side) either: one taker order
//     filling two equal resting orders at one price makes two real trades
//     with the same microsecond time, and one of them would be dropped.
//     Their rotations rely on wsclient's alignment (Parser.AlignKey).
//
// Nothing is reset on a reconnection or a resubscription: the venues'
// trade ids keep increasing across connections (they are the venue's, not
// the connection's), so the trades a new connection repeats are dropped and
// every later one is delivered.
//
// A subscription's recent trades (Coinbase market_trades and Kraken v2
// trade snapshots: the most recent trades, none left out between them)
// also tell whether trades were lost before them — by a connection lost,
// or by a rotation that switched unaligned while the old connection
// lagged behind the venue: when the oldest of them is above the last id
// delivered + 1, the trades between may be lost, and the parser
// publishes a gap marker after the frame (GapType schema.EventTrade,
// GapFirstSeq = last + 1, GapLastSeq = oldest - 1, GapCount 0: ids need
// not be consecutive).
//
// State: one mark per (interned symbol, trade kind) — bounded by the
// symbol registry — and a per-frame list reused from frame to frame: no
// allocation once a symbol was seen.

// tradeMark is where a trade stream stands: the highest id delivered (of
// the venue's current numbering) and the latest trade time delivered.
type tradeMark struct {
	id uint64
	ts int64
}

// tradeKey names a trade stream: Binance's trade (t) and aggTrade (a) ids
// of one symbol are two numberings.
type tradeKey struct {
	sym  string
	kind uint16
}

// frameMark is a trade stream's mark as it was before the current frame.
type frameMark struct {
	key   tradeKey
	mark  tradeMark
	known bool // the stream had delivered a trade before the frame
	renum bool // a trade of this frame started a new numbering
	// snap: the frame holds the venue's recent trades of the stream
	// (envelope.snapshot); snapMin is the oldest id among them.
	snap    bool
	snapMin uint64
}

// tradeFutureSlack is how far past its receive time (Unix ns) a trade's
// venue time is believed for the repeat rule: a venue's clock ahead of
// the host's by up to a minute (an unsynchronised host) still proves a
// restart of the ids; a later time is not the venue's.
const tradeFutureSlack = int64(time.Minute)

// wallReading is the least receive time (Unix ns, 2001-09-09) taken for a
// reading of a wall clock: a host or a test feeding synthetic receive
// times (1, 2, …) gets no bound from them.
const wallReading = int64(1e18)

// maxTradeDigits: ids of up to 19 decimal digits fit a uint64.
const maxTradeDigits = 19

// tradeNumber reads a trade id made of decimal digits only.
func tradeNumber(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > maxTradeDigits {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// beginFrame forgets the previous frame's marks.
func (p *Parser) beginFrame() { p.tradeFrame = p.tradeFrame[:0] }

// frameMark returns key's mark as it stood before the current frame.
func (p *Parser) frameMark(key tradeKey) *frameMark {
	for i := range p.tradeFrame {
		if p.tradeFrame[i].key == key {
			return &p.tradeFrame[i]
		}
	}
	m, ok := p.trades[key]
	p.tradeFrame = append(p.tradeFrame, frameMark{key: key, mark: m, known: ok})
	return &p.tradeFrame[len(p.tradeFrame)-1]
}

// repeatTrade reports whether ev, a trade of kind k, repeats one the parser
// delivered (it is then to be dropped and counted); otherwise it records
// ev as delivered.
func (p *Parser) repeatTrade(k int, ev *schema.CanonicalEvent) bool {
	if !p.spec.tradeIDs {
		return false
	}
	id, ok := tradeNumber(ev.Trade.ID.Bytes())
	if !ok {
		return false
	}
	key := tradeKey{sym: ev.Symbol, kind: uint16(k)}
	fm := p.frameMark(key)
	if p.env.snapshot && (!fm.snap || id < fm.snapMin) {
		fm.snap, fm.snapMin = true, id
	}
	ts := ev.ExchangeTS
	future := ev.IngestTS >= wallReading && ts > ev.IngestTS+tradeFutureSlack
	if future {
		ts = ev.IngestTS // as a mark: its time is not the venue's; its receive time bounds it
	}
	before := fm.mark
	renumbered := false
	if fm.known && id <= before.id {
		if ts == 0 || before.ts == 0 || ts <= before.ts || future {
			p.stats.repeats.Add(1)
			return true
		}
		renumbered = true // later than every trade delivered: new ids
	}
	if p.trades == nil {
		p.trades = make(map[tradeKey]tradeMark)
	}
	cur, had := p.trades[key]
	if !had && !p.room(len(p.trades)) {
		return false // delivered, not compared: counted Untracked by room
	}
	switch {
	case renumbered && !fm.renum:
		fm.renum = true
		cur.id = id
	case id > cur.id:
		cur.id = id
	}
	cur.ts = max(cur.ts, ts)
	p.trades[key] = cur
	return false
}

// endFrame publishes a gap marker for each trade stream whose recent
// trades, sent by the frame, do not reach back to the last trade
// delivered before it.
func (p *Parser) endFrame(ctx context.Context, ingest int64) error {
	var first error
	for i := range p.tradeFrame {
		fm := &p.tradeFrame[i]
		if !fm.snap || !fm.known || fm.renum || fm.snapMin <= fm.mark.id+1 {
			continue
		}
		from := schema.CanonicalEvent{Symbol: fm.key.sym, IngestTS: ingest}
		if err := p.gap(ctx, &from, schema.EventTrade, fm.mark.id+1, fm.snapMin-1, 0, "trades missed before a subscription's recent trades"); err != nil && first == nil {
			first = err
		}
	}
	p.tradeFrame = p.tradeFrame[:0]
	return first
}
