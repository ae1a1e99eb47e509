package schema

import "github.com/meltica/meltica/pool"

// Level is one price level of a book side. A zero Qty in a book update
// deletes the level.
type Level struct {
	Price Decimal
	Qty   Decimal
}

// Trade is the section of an EventTrade.
type Trade struct {
	ID    ID      // venue trade id (aggregate id for Binance aggTrade)
	Price Decimal //
	Qty   Decimal //
	Side  Side    // aggressor side
}

// BBO is the section of an EventBBO: the top of the book. A side with no
// order — no bid or no ask: a one-sided book, a venue's quote of an empty
// side (OKX bbo-tbt's []), a quote withdrawn (both sides) — has a zero
// price and a zero quantity: zero is not a price.
// Check BidQty.IsZero() (AskQty) before reading BidPrice (AskPrice); no
// level of a book has a zero quantity (a zero Qty deletes it, [Level]).
type BBO struct {
	BidPrice, BidQty Decimal
	AskPrice, AskQty Decimal
}

// Book is the section of EventBookSnapshot and EventBookUpdate. Bids are
// best (highest) first and asks best (lowest) first as the venue sent them.
// The slices are owned by the event; Reset keeps their capacity.
type Book struct {
	Bids        []Level
	Asks        []Level
	FirstSeq    uint64 // first update id in this diff (Binance U); 0 if none
	LastSeq     uint64 // last update id (Binance u, OKX seqId, Bybit u)
	PrevSeq     uint64 // previous update id the venue names (OKX prevSeqId)
	Checksum    uint32 // venue's checksum of the book after this message
	HasChecksum bool
	// Depth is the levels per side of the venue's view the message belongs
	// to, as its stream names it (Bybit orderbook.50 is 50, OKX books5 5,
	// Binance btcusdt@depth5 5); 0 for the whole book or when the stream
	// does not say. Views of one symbol at two depths are two streams, each
	// with its own ids; on a gap marker it names the view that lost
	// messages.
	Depth int
}

// Ticker is the section of an EventTicker: rolling statistics. Fields a venue
// does not send stay zero.
type Ticker struct {
	Last, LastQty           Decimal
	BidPrice, BidQty        Decimal
	AskPrice, AskQty        Decimal
	Open, High, Low         Decimal
	Volume, QuoteVolume     Decimal // base and quote volume over the window
	PriceChange, ChangePct  Decimal
	MarkPrice, IndexPrice   Decimal // derivatives only
	FundingRate, OpenInt    Decimal // derivatives only
	NextFundingTime         int64   // Unix ns; derivatives only
	WindowOpen, WindowClose int64   // Unix ns, when the venue says
	TradeCount              uint64
	// WeightedAvgPrice is the volume-weighted average price of the trades
	// in the window (quote volume over base volume), in the quote asset;
	// zero when the venue does not send it: Binance "w" (WebSocket Streams
	// "Individual Symbol Ticker Streams", "Individual Symbol Rolling
	// Window Statistics Streams"; USDⓈ-M and COIN-M "Individual Symbol
	// Ticker Streams"). OKX, Bybit and Coinbase tickers send none.
	// Kraken's 24 h one is read too (WebSocket v2 "Ticker (Level 1)"
	// vwap; v1 "Ticker (Level 1)" p, whose second value is the last
	// 24 hours').
	WeightedAvgPrice Decimal
	// Window is the venue's name of the ticker's rolling window, a
	// constant (never a slice of a frame): "" for a venue's standard
	// ticker (24 h, or the venue's trading day), "1h", "4h" or "1d" for
	// Binance's rolling-window tickers (spot WebSocket Streams
	// "Individual Symbol Rolling Window Statistics Streams":
	// <symbol>@ticker_<window>, events 1hTicker, 4hTicker, 1dTicker).
	// Tickers of different windows are different streams: the dispatcher
	// keys them apart, so a 1 h ticker never replaces a 24 h one queued
	// ("1d" and the standard ticker both span 24 h, but are two streams).
	// A gap marker about a symbol's tickers (EventGap, Control.GapType
	// EventTicker) names the window it is about; one that names none
	// and states no window (WindowClose 0) is about every window's
	// tickers of the symbol, the standard ones included.
	Window string
}

// Kline is the section of EventKlineLive and EventKlineClosed.
type Kline struct {
	Interval               string // "1m", "1h", ...: a constant, never a slice of a frame
	OpenTime, CloseTime    int64  // Unix ns
	Open, High, Low, Close Decimal
	Volume, QuoteVolume    Decimal
	TradeCount             uint64
	Closed                 bool
}

// Mark is the section of EventMarkPrice and EventFundingRate.
type Mark struct {
	MarkPrice, IndexPrice Decimal
	EstSettlePrice        Decimal
	FundingRate           Decimal
	NextFundingTime       int64 // Unix ns
}

// Liquidation is the section of an EventLiquidation.
type Liquidation struct {
	Side      Side // side of the liquidation order
	Price     Decimal
	Qty       Decimal
	AvgPrice  Decimal
	FilledQty Decimal
	Status    OrderStatus
}

// Control is the section of EventGap, EventConnState and EventControl.
type Control struct {
	Kind        ControlKind
	State       ConnState // ControlConnState
	GapType     EventType // ControlGap: type of the events lost
	GapCount    uint64    // ControlGap: how many were lost; 0 if unknown
	GapFirstSeq uint64    // ControlGap: first lost sequence, when known
	GapLastSeq  uint64    // ControlGap: last lost sequence, when known
	GapSource   GapSource // ControlGap: lost at the venue (zero value) or in a subscriber's queue
	Code        int64     // venue error code (0 for a success)
	RequestID   uint64    // id of the request an ack or error answers, when numeric
	Value       int64     // ControlAccountConfig: the setting's new value
	Reason      string    // human-readable cause; rare, so a string
}

// CanonicalEvent is one venue event in Meltica's schema. The Type says which
// section holds the data. There is no interface{} payload, so filling a
// pooled event from a frame allocates nothing once its slices have grown
// and each section it uses was used once.
//
// The layout is compact (376 bytes): the common fields and the three
// market-data sections every feed sends most (Trade, BBO, Book) are held by
// value and are zero unless the Type uses them; the other sections are held
// out of line, through a pointer that is nil unless the event carries that
// section. Read a section the event's Type names (a gap marker's Control,
// an execution report's Exec) and check it for nil in code that sees
// events it did not make; a gap marker about an order carries Exec beside
// Control. To fill a section, take it with its Use method (UseControl,
// UseExec, ...), which makes it (zero) when it is nil: from storage the
// event keeps for it when the event is pooled or keeps its sections
// (KeepSections, NewReusableEvent; no allocation once each section was
// used once), a new one otherwise. A reader of events it did not make
// reads a section through the nil-safe readers (GapType, KlineInterval,
// TickerWindow, ControlOrZero, ...: a section not carried reads as zero)
// or checks the pointer; the set of sections an event carries is
// Carried, a [Sections]. A subscriber's clone holds
// only the sections its original carried, so fanning a trade out copies
// 376 bytes per subscriber, not every section's (it was 1,928 bytes).
//
// Pooled events belong to whoever took them from the pool until they are
// handed on (to the dispatcher, which returns them) or Put; so do the
// sections they carry, which a Put zeroes and hands to the event's next
// user. Subscribers get heap clones made with Clone, which are theirs to
// keep, sections included, and which no pool accepts. A copy by value
// (`cp := *ev`) shares the original's sections: copy with CloneInto.
type CanonicalEvent struct {
	pool.Header `json:"-"` // the pool's bookkeeping, not data: never encoded
	Venue       Venue
	Symbol      string // BASE-QUOTE, interned (never a slice of a frame)
	SeqProvider uint64 // the venue's own sequence for the stream, 0 if none
	ExchangeTS  int64  // venue event time, Unix ns
	IngestTS    int64  // frame receive time, Unix ns
	TraceID     uint64 // set by the host, carried through
	DecisionID  uint64 // set by the host, carried through
	Raw         []byte // the venue payload, when kept; owned, capacity kept

	// Type sits beside Trade and BBO, which are byte-aligned (a Decimal
	// is 9 bytes): the three fill 104 bytes, a whole number of words.
	Type EventType

	// Held by value: zero unless the Type uses them.
	Trade Trade // EventTrade
	BBO   BBO   // EventBBO
	Book  Book  // EventBookSnapshot, EventBookUpdate

	// Held out of line: nil unless the event carries the section. The
	// event owns what they point to.
	Ticker      *Ticker      `json:",omitempty"` // EventTicker
	Kline       *Kline       `json:",omitempty"` // EventKlineLive, EventKlineClosed
	Mark        *Mark        `json:",omitempty"` // EventMarkPrice, EventFundingRate
	Liquidation *Liquidation `json:",omitempty"` // EventLiquidation
	Exec        *Execution   `json:",omitempty"` // EventExecReport; a gap marker about an order
	Control     *Control     `json:",omitempty"` // EventGap, EventConnState, EventControl
	Balance     *Balance     `json:",omitempty"` // EventBalance
	Position    *Position    `json:",omitempty"` // EventPosition

	// kept is a pooled event's storage for its out-of-line sections, made
	// at its first Use and kept for the event's life in the pool, or the
	// storage KeepSections gave an event; nil in clones and in events made
	// by hand. A value copy of the event carries
	// the original's, which it does not own (see outOfLine.owner).
	kept *outOfLine
}

// outOfLine holds one of each out-of-line section, and which of them the
// event was handed since its last Reset.
type outOfLine struct {
	// owner is the Header of the event the storage belongs to: a value
	// copy of the event (`cp := *ev`) carries the pointer but is not the
	// owner, so its Use and Reset never touch the original's sections.
	owner *pool.Header
	// used has a bit per section (Section* constants) that a Use handed out
	// since the last Reset: only those may hold data. Reset zeroes them
	// even when the event let go of the section (a host set the pointer
	// to nil or to its own memory), and a Use of one handed out before
	// zeroes it, so no section comes back with an old event's data.
	used        Sections
	Ticker      Ticker
	Kline       Kline
	Mark        Mark
	Liquidation Liquidation
	Exec        Execution
	Control     Control
	Balance     Balance
	Position    Position
}

// storage returns the event's kept sections, made for a pooled event at
// its first call; nil for an event that is not pooled and does not keep
// its sections (a clone, a value copy, an event made by hand).
func (e *CanonicalEvent) storage() *outOfLine {
	if k := e.own(); k != nil {
		return k
	}
	if !e.Pooled() {
		return nil
	}
	e.kept = &outOfLine{owner: &e.Header}
	return e.kept
}

// KeepSections gives e storage of its own for its out-of-line sections,
// as a pooled event has: its Use methods then hand out that storage (no
// allocation once each section was used once) and its Reset zeroes the
// sections handed out and keeps their memory. It is for an event that is
// not pooled and is filled again and again in one place (a decoder's or a
// parser's scratch event, a field of a long-lived struct): one allocation
// (about 1.1 KiB) at its first call, nothing after. The storage belongs to
// e where it is: a value copy of e (`cp := *e`) does not own it (its Use
// makes new sections), nor does a Clone. A pooled event keeps its
// sections already; KeepSections on it, or a second time, does nothing.
func (e *CanonicalEvent) KeepSections() {
	if e.own() == nil {
		e.kept = &outOfLine{owner: &e.Header}
	}
}

// NewReusableEvent returns a zero event that keeps storage for its
// out-of-line sections (see KeepSections): a scratch event decoded into
// again and again, never handed on, whose Use methods allocate nothing
// once warm. No pool accepts it. Two allocations.
func NewReusableEvent() *CanonicalEvent {
	e := new(CanonicalEvent)
	e.KeepSections()
	return e
}

// own returns the event's kept storage when it is its own (not a value
// copy's of another event's), nil otherwise.
func (e *CanonicalEvent) own() *outOfLine {
	if k := e.kept; k != nil && k.owner == &e.Header {
		return k
	}
	return nil
}

// use returns *p, pointing it first, when it is nil, at the event's kept
// section (a pooled event, or one that keeps its sections: KeepSections;
// zeroed if it was handed out before) or a new one.
func use[T any](e *CanonicalEvent, p **T, bit Sections, kept func(*outOfLine) *T) *T {
	if *p == nil {
		if s := e.storage(); s != nil {
			q := kept(s)
			if s.used&bit != 0 {
				var zero T
				*q = zero
			}
			s.used |= bit
			*p = q
		} else {
			*p = new(T)
		}
	}
	return *p
}

// UseTicker returns the event's Ticker section, making it (zero) if nil.
func (e *CanonicalEvent) UseTicker() *Ticker { return use(e, &e.Ticker, SectionTicker, keptTicker) }

// UseKline returns the event's Kline section, making it (zero) if nil.
func (e *CanonicalEvent) UseKline() *Kline { return use(e, &e.Kline, SectionKline, keptKline) }

// UseMark returns the event's Mark section, making it (zero) if nil.
func (e *CanonicalEvent) UseMark() *Mark { return use(e, &e.Mark, SectionMark, keptMark) }

// UseLiquidation returns the event's Liquidation section, making it (zero)
// if nil.
func (e *CanonicalEvent) UseLiquidation() *Liquidation {
	return use(e, &e.Liquidation, SectionLiquidation, keptLiquidation)
}

// UseExec returns the event's Exec section, making it (zero) if nil.
func (e *CanonicalEvent) UseExec() *Execution { return use(e, &e.Exec, SectionExec, keptExec) }

// UseControl returns the event's Control section, making it (zero) if nil.
func (e *CanonicalEvent) UseControl() *Control {
	return use(e, &e.Control, SectionControl, keptControl)
}

// UseBalance returns the event's Balance section, making it (zero) if nil.
func (e *CanonicalEvent) UseBalance() *Balance {
	return use(e, &e.Balance, SectionBalance, keptBalance)
}

// UsePosition returns the event's Position section, making it (zero) if
// nil.
func (e *CanonicalEvent) UsePosition() *Position {
	return use(e, &e.Position, SectionPosition, keptPosition)
}

// Reset clears what the event holds and keeps the capacity of Raw,
// Book.Bids and Book.Asks up to 256 KiB each (8,192 levels a side),
// dropping a larger buffer: a pool never shrinks, and an event that once
// carried a whole book (Coinbase's level2 snapshot at every subscription,
// a garbage frame up to wsclient's ReadLimit) would keep it for the
// process's life. It zeroes the common fields, the sections held by value
// (191 bytes) and, of the storage a pooled event keeps, only the sections
// handed out since the last Reset, then sets the eight pointers to nil: a
// trade's Reset writes about 360 bytes, not the 1,928 of every section
// (about 73% less time; the numbers and the command are in the package
// doc). A section a host pointed at its own memory is let go, never
// written. It
// assigns field by field: a pool's Put calls it while a racing second Put
// may read the header (see [pool.Header]).
func (e *CanonicalEvent) Reset() {
	e.Venue, e.Symbol, e.Type = "", "", EventUnknown
	e.SeqProvider, e.ExchangeTS, e.IngestTS, e.TraceID, e.DecisionID = 0, 0, 0, 0, 0
	e.Raw = kept(e.Raw)
	e.Trade, e.BBO = Trade{}, BBO{}
	e.Book = Book{Bids: kept(e.Book.Bids), Asks: kept(e.Book.Asks)}
	e.dropAll()
	if s := e.own(); s != nil && s.used != 0 {
		s.release()
	}
}

// dropAll is Drop(AllSections), written out: it is on Reset's path.
func (e *CanonicalEvent) dropAll() {
	e.Ticker, e.Kline, e.Mark, e.Liquidation = nil, nil, nil, nil
	e.Exec, e.Control, e.Balance, e.Position = nil, nil, nil, nil
}

// release zeroes the sections handed out since the last Reset.
func (s *outOfLine) release() {
	u := s.used
	s.used = 0
	u.each(func(i int) { sectionOps[i].zeroKept(s) })
}

// Clone returns an independent heap copy that no pool accepts: one
// allocation for the event, one for Raw when it is set, one for both book
// sides when they are set, one per out-of-line section the event carries.
func (e *CanonicalEvent) Clone() *CanonicalEvent {
	c := &CanonicalEvent{}
	e.CloneInto(c)
	return c
}

// CloneInto makes c an independent copy of e, reusing nothing of c's but
// its header and, when c is pooled, the storage it keeps for its
// out-of-line sections: c carries the sections e carries (its own copies)
// and no other. Used by Clone, and by callers that keep their own copies.
// A CloneInto of an event into itself does nothing.
func (e *CanonicalEvent) CloneInto(c *CanonicalEvent) {
	if c == e {
		return
	}
	e.copyFields(c)
	c.Raw = cloneBytes(e.Raw)
	nb, na := len(e.Book.Bids), len(e.Book.Asks)
	if nb+na == 0 {
		c.Book.Bids, c.Book.Asks = nil, nil
		return
	}
	lv := make([]Level, nb+na)
	copy(lv, e.Book.Bids)
	copy(lv[nb:], e.Book.Asks)
	c.Book.Bids = lv[:nb:nb]
	c.Book.Asks = lv[nb:]
}

// CopyInto makes c a copy of e as CloneInto does, but writes e's Raw
// and book levels into the memory of c's Raw, Book.Bids and Book.Asks,
// allocating only for a slice whose capacity is too small: copying a
// book snapshot into an event that held one before allocates nothing (a
// CloneInto makes a new Raw and new levels). c must own that memory (a
// pooled event, a clone, one made by hand; never a value copy of another
// event, whose slices it shares). c's slices are empty, not nil, where
// e's are empty and c had capacity. A CopyInto of an event into itself
// does nothing.
func (e *CanonicalEvent) CopyInto(c *CanonicalEvent) {
	if c == e {
		return
	}
	raw, bids, asks := c.Raw[:0], c.Book.Bids[:0], c.Book.Asks[:0]
	e.copyFields(c)
	c.Raw = append(raw, e.Raw...)
	c.Book.Bids = append(bids, e.Book.Bids...)
	c.Book.Asks = append(asks, e.Book.Asks...)
}

// copyFields copies into c every field of e but the header, Raw and the
// book's levels (c's Book.Bids and Book.Asks are e's after it), and
// makes c carry the out-of-line sections e carries (its own copies) and
// no other. Field by field, never writing c's Header: a pool reads the
// Header of an event checked out while its holder works on it
// (Shutdown's leak report). TestCloneIsIndependent fails on a field left
// out.
func (e *CanonicalEvent) copyFields(c *CanonicalEvent) {
	c.Venue, c.Symbol, c.Type = e.Venue, e.Symbol, e.Type
	c.SeqProvider, c.ExchangeTS, c.IngestTS = e.SeqProvider, e.ExchangeTS, e.IngestTS
	c.TraceID, c.DecisionID = e.TraceID, e.DecisionID
	c.Trade, c.BBO, c.Book = e.Trade, e.BBO, e.Book
	c.dropAll() // c's own copies: never one it shares (a value copy of e's, a host's)
	e.CopyCarriedTo(c, AllSections)
}

// CopySectionsTo copies the out-of-line sections e carries into c's (taken
// with c's Use methods: from c's kept storage when c keeps one, so c never
// points at e's), leaving c's others as they are: CopyCarriedTo of every
// section.
func (e *CanonicalEvent) CopySectionsTo(c *CanonicalEvent) { e.CopyCarriedTo(c, AllSections) }

// Validate checks the fields every event needs and, for account updates,
// their section: a balance names its asset and kind (a snapshot's amounts
// are not negative); a position names its contract (Symbol) and side, a
// long is not negative and a short not positive. An account update whose
// section is nil fails with Reason "missing". Errors are
// *ValidationError.
func (e *CanonicalEvent) Validate() error {
	switch {
	case e.Venue == "":
		return invalid("CanonicalEvent", "Venue", "empty")
	case e.Type == EventUnknown || e.Type >= numEventTypes:
		return invalid("CanonicalEvent", "Type", "unknown")
	case e.Symbol == "" && (!e.Type.Critical() || e.Type == EventPosition):
		return invalid("CanonicalEvent", "Symbol", "empty")
	case e.Type == EventBalance && e.Balance == nil:
		return invalid("CanonicalEvent", "Balance", "missing")
	case e.Type == EventBalance:
		return e.Balance.validate()
	case e.Type == EventPosition && e.Position == nil:
		return invalid("CanonicalEvent", "Position", "missing")
	case e.Type == EventPosition:
		return e.Position.validate()
	}
	return nil
}
