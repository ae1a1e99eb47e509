package schema

import "math/bits"

// Sections is a set of the out-of-line sections of a [CanonicalEvent]
// (Ticker, Kline, Mark, Liquidation, Exec, Control, Balance, Position),
// one bit a section in that order: what an event carries ([CanonicalEvent.Carried]),
// lets go of ([CanonicalEvent.Drop]) or copies ([CanonicalEvent.CopyCarriedTo]).
// The order is fixed: packages that keep a bit mask of sections of their
// own (a wire layout, a dispatcher's) may shift a Sections into theirs.
type Sections uint8

// The out-of-line sections, one bit each.
const (
	SectionTicker Sections = 1 << iota
	SectionKline
	SectionMark
	SectionLiquidation
	SectionExec
	SectionControl
	SectionBalance
	SectionPosition

	// AllSections is every out-of-line section.
	AllSections Sections = 1<<iota - 1
)

// Has reports whether s holds every section of t.
func (s Sections) Has(t Sections) bool { return s&t == t }

// section describes one out-of-line section for the set operations
// (Drop, CopyCarriedTo, Reset's zeroing of kept storage): the event's
// pointer to it, its Use method and a kept event's storage of it. The Use
// methods themselves stay written out: they are on every parser's path.
type section[T any] struct {
	field func(*CanonicalEvent) **T
	use   func(*CanonicalEvent) *T
	kept  func(*outOfLine) *T
}

// sectionOp is what the set operations do to one section, its type
// erased; sectionOps[i] is the section of bit 1<<i.
type sectionOp struct {
	drop     func(e *CanonicalEvent)    // let go: the pointer to nil, the section never written
	copyTo   func(e, c *CanonicalEvent) // e's section, carried, into c's (taken with c's Use)
	zeroKept func(k *outOfLine)         // zero the kept one
}

// sectionOps is the one table of the out-of-line sections, in the order
// of their bits.
var sectionOps = [...]sectionOp{
	op(section[Ticker]{func(e *CanonicalEvent) **Ticker { return &e.Ticker }, (*CanonicalEvent).UseTicker, keptTicker}),
	op(section[Kline]{func(e *CanonicalEvent) **Kline { return &e.Kline }, (*CanonicalEvent).UseKline, keptKline}),
	op(section[Mark]{func(e *CanonicalEvent) **Mark { return &e.Mark }, (*CanonicalEvent).UseMark, keptMark}),
	op(section[Liquidation]{func(e *CanonicalEvent) **Liquidation { return &e.Liquidation }, (*CanonicalEvent).UseLiquidation, keptLiquidation}),
	op(section[Execution]{func(e *CanonicalEvent) **Execution { return &e.Exec }, (*CanonicalEvent).UseExec, keptExec}),
	op(section[Control]{func(e *CanonicalEvent) **Control { return &e.Control }, (*CanonicalEvent).UseControl, keptControl}),
	op(section[Balance]{func(e *CanonicalEvent) **Balance { return &e.Balance }, (*CanonicalEvent).UseBalance, keptBalance}),
	op(section[Position]{func(e *CanonicalEvent) **Position { return &e.Position }, (*CanonicalEvent).UsePosition, keptPosition}),
}

func op[T any](s section[T]) sectionOp {
	return sectionOp{
		drop: func(e *CanonicalEvent) { *s.field(e) = nil },
		copyTo: func(e, c *CanonicalEvent) {
			// Read first: when e is a value copy of c, e's section is
			// c's kept one, which c's Use zeroes before handing it out
			// again.
			v := **s.field(e)
			*s.use(c) = v
		},
		zeroKept: func(k *outOfLine) {
			var zero T
			*s.kept(k) = zero
		},
	}
}

// The kept storage of each section.
func keptTicker(k *outOfLine) *Ticker           { return &k.Ticker }
func keptKline(k *outOfLine) *Kline             { return &k.Kline }
func keptMark(k *outOfLine) *Mark               { return &k.Mark }
func keptLiquidation(k *outOfLine) *Liquidation { return &k.Liquidation }
func keptExec(k *outOfLine) *Execution          { return &k.Exec }
func keptControl(k *outOfLine) *Control         { return &k.Control }
func keptBalance(k *outOfLine) *Balance         { return &k.Balance }
func keptPosition(k *outOfLine) *Position       { return &k.Position }

// each calls f with the index in sectionOps of every section of s.
func (s Sections) each(f func(i int)) {
	for ; s != 0; s &= s - 1 {
		f(bits.TrailingZeros8(uint8(s)))
	}
}

// Carried returns the out-of-line sections e carries: those whose pointer
// is not nil, whatever their fields hold.
func (e *CanonicalEvent) Carried() Sections {
	return has(e.Ticker, SectionTicker) | has(e.Kline, SectionKline) | has(e.Mark, SectionMark) |
		has(e.Liquidation, SectionLiquidation) | has(e.Exec, SectionExec) | has(e.Control, SectionControl) |
		has(e.Balance, SectionBalance) | has(e.Position, SectionPosition)
}

func has[T any](p *T, bit Sections) Sections {
	if p == nil {
		return 0
	}
	return bit
}

// Drop lets go of the out-of-line sections of s: it sets their pointers
// to nil, so that e no longer carries them, and writes none of them (a
// section a host pointed at its own memory is left as it is). A pooled
// event's kept section, dropped, is zeroed by its next Reset or Use.
func (e *CanonicalEvent) Drop(s Sections) {
	s.each(func(i int) { sectionOps[i].drop(e) })
}

// CopyCarriedTo copies each out-of-line section of s that e carries into
// c's, taken with c's Use methods (from c's kept storage when c keeps
// one, so c never points at e's), leaving c's others as they are.
func (e *CanonicalEvent) CopyCarriedTo(c *CanonicalEvent, s Sections) {
	(e.Carried() & s).each(func(i int) { sectionOps[i].copyTo(e, c) })
}

// Nil-safe readers of the out-of-line sections, for code that reads
// events it did not make (a host's, a decoded one, a gap marker published
// without its section): a section the event does not carry reads as its
// zero value, and a reader never makes it (Use* is for writers) nor
// allocates.

// GapType is the type of the events a gap marker reports lost
// (Control.GapType): EventUnknown, every type, when e carries no Control.
func (e *CanonicalEvent) GapType() EventType {
	if e.Control == nil {
		return EventUnknown
	}
	return e.Control.GapType
}

// KlineInterval is the interval of e's kline stream (Kline.Interval, "1m",
// "1h", ...), "" when e carries no Kline.
func (e *CanonicalEvent) KlineInterval() string {
	if e.Kline == nil {
		return ""
	}
	return e.Kline.Interval
}

// TickerWindow is the window of e's ticker stream (Ticker.Window: "" for
// the venue's standard ticker, "1h", "4h", "1d"), "" when e carries no
// Ticker.
func (e *CanonicalEvent) TickerWindow() string {
	if e.Ticker == nil {
		return ""
	}
	return e.Ticker.Window
}

// TickerWindowClose is Ticker.WindowClose (Unix ns; 0 when the ticker
// states no window), 0 when e carries no Ticker.
func (e *CanonicalEvent) TickerWindowClose() int64 {
	if e.Ticker == nil {
		return 0
	}
	return e.Ticker.WindowClose
}

// ControlOrZero is a copy of e's Control section, zero (Kind ControlNone,
// State ConnUnknown, GapType EventUnknown) when e carries none.
func (e *CanonicalEvent) ControlOrZero() Control { return orZero(e.Control) }

// ExecOrZero is a copy of e's Exec section, zero when e carries none.
func (e *CanonicalEvent) ExecOrZero() Execution { return orZero(e.Exec) }

func orZero[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
