// Package wire is the bridge's binary encoding of a schema.CanonicalEvent,
// layout version 9 (it still reads and can write versions 8, 7 and 6). The layout is documented in the natsbridge package
// documentation (and in the README); this file is its reference.
//
// Every integer is either a byte, a fixed-width little-endian value, an
// unsigned LEB128 varint (encoding/binary's Uvarint) or a zig-zag varint
// (binary.Varint). A Decimal is its mantissa as a zig-zag varint and its
// scale as a byte, so the venue's digits (trailing zeros included) cross
// exactly. Strings and byte slices are a uvarint length and the bytes.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/meltica/meltica/schema"
)

// Version is the layout version, the first byte of every message: 4 added
// Control.Value and the Balance and Position sections; 5 added the
// execution's PositionSide, ReduceOnly, RealizedPnL and Reconciled; 6
// the book's Depth; 7 the run of the bridge sequence (a u32 after it); 8,
// the bytes of 7, numbers the bridge sequence per view of a stream (a
// book's depth, a kline's interval) where 7 and 6 number the views of a
// stream together: the version tells a consumer how to check the
// sequence, message by message (PerView); 9, 8 with the ticker's Window
// and WeightedAvgPrice at the end of its section, numbered as 8.
const Version = 9

// Version8 is the layout of 9 without the ticker's Window and
// WeightedAvgPrice, for consumers older than 9 (they refuse 9): Decode
// reads it (both read as zero) and AppendVersion writes it, leaving them
// out. A ticker of a rolling window written in 8 would read as the
// venue's standard 24 h ticker: the Publisher does not write one (see
// natsbridge's PublisherOptions.WireVersion).
const Version8 = 8

// Version7 is the layout of 8 numbered per stream, views together, as
// consumers older than 8 check it (they refuse 8): Decode reads it and
// AppendVersion writes it.
const Version7 = 7

// PrevVersion is the layout before 7, 7 without the run: Decode reads it
// (the run reads as 0) and AppendVersion writes it, so that consumers and
// publishers can be upgraded one at a time.
const PrevVersion = 6

// known tells whether v is a layout Decode reads.
func known(v byte) bool { return v == Version || v == Version8 || v == Version7 || v == PrevVersion }

// PerView tells whether the message in data numbers its bridge sequence
// per view of its stream (layouts 9 and 8), not per stream (7 and 6).
func PerView(data []byte) bool { return len(data) > 0 && (data[0] == Version || data[0] == Version8) }

// Section bits of the mask: a section held by value (Trade, BBO, Book) is
// written when it is not zero, an out-of-line one when the event carries it
// (its pointer is not nil), whatever its fields hold; Decode makes exactly
// those (see keepOnly). The bytes did not change with schema's compact
// event, so the version did not either.
const (
	secTrade uint16 = 1 << iota
	secBBO
	secBook
	secTicker
	secKline
	secMark
	secLiquidation
	secExec
	secControl
	secBalance
	secPosition
	secAll = secPosition<<1 - 1

	// outShift is where schema.Sections (Ticker first) start in the mask.
	outShift = 3
)

// Errors of Decode.
var (
	ErrVersion   = errors.New("natsbridge: unknown wire version")
	ErrMalformed = errors.New("natsbridge: malformed message")
)

// maxIntern bounds a Decoder's table of interned strings, and
// maxInternLen the length of a string it interns: the table holds at most
// maxIntern × maxInternLen bytes (1 MiB) whatever it is fed. The strings
// that repeat (venues, symbols, intervals, windows, reasons of a kind) are
// short; a longer one is decoded whole, one allocation, and not kept.
const (
	maxIntern    = 4096
	maxInternLen = 256
)

// Append appends ev, stamped with the bridge sequence seq (of no run), to
// dst.
func Append(dst []byte, ev *schema.CanonicalEvent, seq uint64) []byte {
	return AppendVersion(dst, ev, seq, 0, Version)
}

// AppendRun appends ev, stamped with the bridge sequence seq of run run,
// to dst.
func AppendRun(dst []byte, ev *schema.CanonicalEvent, seq uint64, run uint32) []byte {
	return AppendVersion(dst, ev, seq, run, Version)
}

// AppendVersion appends ev in layout version v, Version, Version8 (no
// ticker Window nor WeightedAvgPrice: left out), Version7 or PrevVersion
// (which has no run either: run is left out).
func AppendVersion(dst []byte, ev *schema.CanonicalEvent, seq uint64, run uint32, v byte) []byte {
	b := append(dst, v, byte(ev.Type))
	b = binary.AppendUvarint(b, seq)
	if v != PrevVersion {
		b = binary.LittleEndian.AppendUint32(b, run)
	}
	b = appendString(b, string(ev.Venue))
	b = appendString(b, ev.Symbol)
	b = binary.AppendUvarint(b, ev.SeqProvider)
	b = appendI64(b, ev.ExchangeTS)
	b = appendI64(b, ev.IngestTS)
	b = binary.AppendUvarint(b, ev.TraceID)
	b = binary.AppendUvarint(b, ev.DecisionID)
	b = appendBytes(b, ev.Raw)

	var mask uint16
	if ev.Trade != (schema.Trade{}) {
		mask |= secTrade
	}
	if ev.BBO != (schema.BBO{}) {
		mask |= secBBO
	}
	bk := &ev.Book
	if len(bk.Bids)+len(bk.Asks) > 0 || bk.FirstSeq|bk.LastSeq|bk.PrevSeq != 0 || bk.Checksum != 0 || bk.HasChecksum || bk.Depth != 0 {
		mask |= secBook
	}
	mask |= uint16(ev.Carried()) << outShift
	b = binary.LittleEndian.AppendUint16(b, mask)

	if mask&secTrade != 0 {
		t := &ev.Trade
		b = appendID(b, &t.ID)
		b = appendDecs(b, t.Price, t.Qty)
		b = append(b, byte(t.Side))
	}
	if mask&secBBO != 0 {
		q := &ev.BBO
		b = appendDecs(b, q.BidPrice, q.BidQty, q.AskPrice, q.AskQty)
	}
	if mask&secBook != 0 {
		b = appendLevels(b, bk.Bids)
		b = appendLevels(b, bk.Asks)
		b = binary.AppendUvarint(b, bk.FirstSeq)
		b = binary.AppendUvarint(b, bk.LastSeq)
		b = binary.AppendUvarint(b, bk.PrevSeq)
		b = binary.LittleEndian.AppendUint32(b, bk.Checksum)
		b = appendBool(b, bk.HasChecksum)
		b = binary.AppendUvarint(b, uint64(bk.Depth))
	}
	if mask&secTicker != 0 {
		t := ev.Ticker
		b = appendDecs(b, t.Last, t.LastQty, t.BidPrice, t.BidQty, t.AskPrice, t.AskQty,
			t.Open, t.High, t.Low, t.Volume, t.QuoteVolume, t.PriceChange, t.ChangePct,
			t.MarkPrice, t.IndexPrice, t.FundingRate, t.OpenInt)
		b = appendI64(b, t.NextFundingTime)
		b = appendI64(b, t.WindowOpen)
		b = appendI64(b, t.WindowClose)
		b = binary.AppendUvarint(b, t.TradeCount)
		if v == Version {
			b = appendString(b, t.Window)
			b = appendDecs(b, t.WeightedAvgPrice)
		}
	}
	if mask&secKline != 0 {
		k := ev.Kline
		b = appendString(b, k.Interval)
		b = appendI64(b, k.OpenTime)
		b = appendI64(b, k.CloseTime)
		b = appendDecs(b, k.Open, k.High, k.Low, k.Close, k.Volume, k.QuoteVolume)
		b = binary.AppendUvarint(b, k.TradeCount)
		b = appendBool(b, k.Closed)
	}
	if mask&secMark != 0 {
		m := ev.Mark
		b = appendDecs(b, m.MarkPrice, m.IndexPrice, m.EstSettlePrice, m.FundingRate)
		b = appendI64(b, m.NextFundingTime)
	}
	if mask&secLiquidation != 0 {
		l := ev.Liquidation
		b = append(b, byte(l.Side))
		b = appendDecs(b, l.Price, l.Qty, l.AvgPrice, l.FilledQty)
		b = append(b, byte(l.Status))
	}
	if mask&secExec != 0 {
		x := ev.Exec
		b = appendID(b, &x.ClientOrderID)
		b = appendID(b, &x.VenueOrderID)
		b = appendID(b, &x.OrigClientOrderID)
		b = appendID(b, &x.TradeID)
		b = appendID(b, &x.FeeAsset)
		b = append(b, byte(x.Side), byte(x.Type), byte(x.TimeInForce), byte(x.ExecType), byte(x.Status))
		b = appendDecs(b, x.Price, x.Qty, x.StopPrice, x.LastFillPrice, x.LastFillQty,
			x.CumFillQty, x.CumQuoteQty, x.RemainingQty, x.AvgPrice, x.Fee)
		b = appendBool(b, x.IsMaker)
		b = appendString(b, x.RejectReason)
		b = appendI64(b, x.TransactTime)
		b = appendI64(b, x.OrderCreated)
		b = append(b, byte(x.PositionSide))
		b = appendBool(b, x.ReduceOnly)
		b = appendDecs(b, x.RealizedPnL)
		b = appendBool(b, x.Reconciled)
	}
	if mask&secControl != 0 {
		c := ev.Control
		b = append(b, byte(c.Kind), byte(c.State), byte(c.GapType), byte(c.GapSource))
		b = binary.AppendUvarint(b, c.GapCount)
		b = binary.AppendUvarint(b, c.GapFirstSeq)
		b = binary.AppendUvarint(b, c.GapLastSeq)
		b = binary.AppendVarint(b, c.Code)
		b = binary.AppendUvarint(b, c.RequestID)
		b = binary.AppendVarint(b, c.Value)
		b = appendString(b, c.Reason)
	}
	if mask&secBalance != 0 {
		x := ev.Balance
		b = appendID(b, &x.Asset)
		b = append(b, byte(x.Kind))
		b = appendDecs(b, x.Free, x.Locked, x.Delta, x.Wallet, x.CrossWallet)
		b = appendString(b, x.Reason)
		b = appendI64(b, x.UpdateTime)
		b = binary.AppendUvarint(b, uint64(x.Index))
		b = binary.AppendUvarint(b, uint64(x.Count))
	}
	if mask&secPosition != 0 {
		x := ev.Position
		b = append(b, byte(x.Side), byte(x.MarginType))
		b = appendDecs(b, x.Amount, x.EntryPrice, x.BreakEvenPrice, x.RealizedPnL, x.UnrealizedPnL,
			x.IsolatedWallet, x.MarkPrice, x.MaintMargin, x.CrossWallet)
		b = appendBool(b, x.MarginCall)
		b = appendString(b, x.Reason)
		b = appendI64(b, x.UpdateTime)
		b = binary.AppendUvarint(b, uint64(x.Index))
		b = binary.AppendUvarint(b, uint64(x.Count))
	}
	return b
}

// Type returns the event type of an encoded message without decoding it,
// and false when data is not a message of a known version.
func Type(data []byte) (schema.EventType, bool) {
	if len(data) < 2 || !known(data[0]) {
		return schema.EventUnknown, false
	}
	return schema.EventType(data[1]), true
}

// Decoder decodes messages into events. It interns the strings it reads
// (venues, symbols, intervals, windows, reasons; the first 4096 distinct
// ones of up to 256 bytes: at most 1 MiB held), so that decoding a stream
// it has seen before allocates nothing. It is not safe for concurrent use; its zero
// value is ready.
type Decoder struct {
	intern map[string]string
}

// Decode fills ev from data and returns the bridge sequence. The event
// carries exactly the sections the message does: each out-of-line one it
// carries is taken with ev's Use method (a pooled event's kept storage: no
// allocation once warm; a new one otherwise), each other let go (set to
// nil, never written), so that a round trip keeps which sections are nil. On error ev
// holds a partial event and must be returned to its pool by the caller.
func (d *Decoder) Decode(data []byte, ev *schema.CanonicalEvent) (uint64, error) {
	seq, _, err := d.decode(data, ev)
	return seq, err
}

// DecodeRun is Decode that also returns the run of the bridge sequence (0
// in a message of PrevVersion, which has none).
func (d *Decoder) DecodeRun(data []byte, ev *schema.CanonicalEvent) (seq uint64, run uint32, err error) {
	return d.decode(data, ev)
}

// Scratch is an event decoded into again and again and read in place (a
// message's stream, its view, what a marker covers), never handed on: it
// keeps storage for its out-of-line sections (schema's KeepSections), so
// that decoding into it allocates nothing once each section was decoded
// once. Its zero value is ready; it must not be copied once used (a copy
// does not own the storage); a section it carries is valid until the next
// decode into it.
type Scratch struct {
	schema.CanonicalEvent
}

// DecodeScratch is DecodeRun into s, whose out-of-line sections are its
// own storage.
func (d *Decoder) DecodeScratch(data []byte, s *Scratch) (seq uint64, run uint32, err error) {
	s.KeepSections()
	return d.decode(data, &s.CanonicalEvent)
}

// decode is DecodeRun.
func (d *Decoder) decode(data []byte, ev *schema.CanonicalEvent) (seq uint64, run uint32, err error) {
	if len(data) < 2 {
		return 0, 0, fmt.Errorf("%w: %d bytes", ErrMalformed, len(data))
	}
	if !known(data[0]) {
		return 0, 0, fmt.Errorf("%w: %d", ErrVersion, data[0])
	}
	if int(data[1]) >= schema.NumEventTypes {
		// A type this build does not know: no handler of the host's
		// would know it either.
		return 0, 0, fmt.Errorf("%w: unknown event type %d", ErrMalformed, data[1])
	}
	r := reader{b: data[2:]}
	ev.Type = schema.EventType(data[1])
	seq = r.uvarint()
	if data[0] != PrevVersion {
		run = r.u32()
	}
	ev.Venue = schema.Venue(d.str(&r))
	ev.Symbol = d.str(&r)
	ev.SeqProvider = r.uvarint()
	ev.ExchangeTS = r.i64()
	ev.IngestTS = r.i64()
	ev.TraceID = r.uvarint()
	ev.DecisionID = r.uvarint()
	ev.Raw = append(ev.Raw[:0], r.bytes()...)
	mask := r.u16()
	if mask&^secAll != 0 {
		r.fail()
	}
	keepOnly(ev, mask)
	if mask&secTrade != 0 {
		t := &ev.Trade
		r.id(&t.ID)
		r.decs(&t.Price, &t.Qty)
		t.Side = schema.Side(r.u8())
	}
	if mask&secBBO != 0 {
		q := &ev.BBO
		r.decs(&q.BidPrice, &q.BidQty, &q.AskPrice, &q.AskQty)
	}
	if mask&secBook != 0 {
		bk := &ev.Book
		bk.Bids = r.levels(bk.Bids[:0])
		bk.Asks = r.levels(bk.Asks[:0])
		bk.FirstSeq = r.uvarint()
		bk.LastSeq = r.uvarint()
		bk.PrevSeq = r.uvarint()
		bk.Checksum = r.u32()
		bk.HasChecksum = r.bool()
		if d := r.uvarint(); d <= 1<<20 {
			bk.Depth = int(d)
		} else {
			r.fail()
		}
	}
	if mask&secTicker != 0 {
		t := ev.UseTicker()
		r.decs(&t.Last, &t.LastQty, &t.BidPrice, &t.BidQty, &t.AskPrice, &t.AskQty,
			&t.Open, &t.High, &t.Low, &t.Volume, &t.QuoteVolume, &t.PriceChange, &t.ChangePct,
			&t.MarkPrice, &t.IndexPrice, &t.FundingRate, &t.OpenInt)
		t.NextFundingTime = r.i64()
		t.WindowOpen = r.i64()
		t.WindowClose = r.i64()
		t.TradeCount = r.uvarint()
		if data[0] == Version {
			t.Window = d.str(&r)
			r.decs(&t.WeightedAvgPrice)
		} else { // the layout has neither: the standard ticker's (a reused event's are not kept)
			t.Window, t.WeightedAvgPrice = "", schema.Decimal{}
		}
	}
	if mask&secKline != 0 {
		k := ev.UseKline()
		k.Interval = d.str(&r)
		k.OpenTime = r.i64()
		k.CloseTime = r.i64()
		r.decs(&k.Open, &k.High, &k.Low, &k.Close, &k.Volume, &k.QuoteVolume)
		k.TradeCount = r.uvarint()
		k.Closed = r.bool()
	}
	if mask&secMark != 0 {
		m := ev.UseMark()
		r.decs(&m.MarkPrice, &m.IndexPrice, &m.EstSettlePrice, &m.FundingRate)
		m.NextFundingTime = r.i64()
	}
	if mask&secLiquidation != 0 {
		l := ev.UseLiquidation()
		l.Side = schema.Side(r.u8())
		r.decs(&l.Price, &l.Qty, &l.AvgPrice, &l.FilledQty)
		l.Status = schema.OrderStatus(r.u8())
	}
	if mask&secExec != 0 {
		x := ev.UseExec()
		r.id(&x.ClientOrderID)
		r.id(&x.VenueOrderID)
		r.id(&x.OrigClientOrderID)
		r.id(&x.TradeID)
		r.id(&x.FeeAsset)
		x.Side = schema.Side(r.u8())
		x.Type = schema.OrderType(r.u8())
		x.TimeInForce = schema.TimeInForce(r.u8())
		x.ExecType = schema.ExecType(r.u8())
		x.Status = schema.OrderStatus(r.u8())
		r.decs(&x.Price, &x.Qty, &x.StopPrice, &x.LastFillPrice, &x.LastFillQty,
			&x.CumFillQty, &x.CumQuoteQty, &x.RemainingQty, &x.AvgPrice, &x.Fee)
		x.IsMaker = r.bool()
		x.RejectReason = d.str(&r)
		x.TransactTime = r.i64()
		x.OrderCreated = r.i64()
		x.PositionSide = schema.PositionSide(r.u8())
		x.ReduceOnly = r.bool()
		r.decs(&x.RealizedPnL)
		x.Reconciled = r.bool()
	}
	if mask&secControl != 0 {
		c := ev.UseControl()
		c.Kind = schema.ControlKind(r.u8())
		c.State = schema.ConnState(r.u8())
		c.GapType = schema.EventType(r.u8())
		c.GapSource = schema.GapSource(r.u8())
		c.GapCount = r.uvarint()
		c.GapFirstSeq = r.uvarint()
		c.GapLastSeq = r.uvarint()
		c.Code = r.varint()
		c.RequestID = r.uvarint()
		c.Value = r.varint()
		c.Reason = d.str(&r)
	}
	if mask&secBalance != 0 {
		x := ev.UseBalance()
		r.id(&x.Asset)
		x.Kind = schema.BalanceKind(r.u8())
		r.decs(&x.Free, &x.Locked, &x.Delta, &x.Wallet, &x.CrossWallet)
		x.Reason = d.str(&r)
		x.UpdateTime = r.i64()
		x.Index = r.u32var()
		x.Count = r.u32var()
	}
	if mask&secPosition != 0 {
		x := ev.UsePosition()
		x.Side = schema.PositionSide(r.u8())
		x.MarginType = schema.MarginType(r.u8())
		r.decs(&x.Amount, &x.EntryPrice, &x.BreakEvenPrice, &x.RealizedPnL, &x.UnrealizedPnL,
			&x.IsolatedWallet, &x.MarkPrice, &x.MaintMargin, &x.CrossWallet)
		x.MarginCall = r.bool()
		x.Reason = d.str(&r)
		x.UpdateTime = r.i64()
		x.Index = r.u32var()
		x.Count = r.u32var()
	}
	if r.bad {
		return 0, 0, fmt.Errorf("%w: truncated or invalid field", ErrMalformed)
	}
	if len(r.b) != 0 {
		return 0, 0, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(r.b))
	}
	return seq, run, nil
}

// keepOnly empties the sections of ev that mask does not carry: the held by
// value ones to zero (the book keeps its capacity), the out-of-line ones
// let go (nil; a pooled or scratch event's kept one is zeroed by its next
// Use), so that a decoded event carries exactly the message's sections.
func keepOnly(ev *schema.CanonicalEvent, mask uint16) {
	if mask&secTrade == 0 {
		ev.Trade = schema.Trade{}
	}
	if mask&secBBO == 0 {
		ev.BBO = schema.BBO{}
	}
	if mask&secBook == 0 {
		ev.Book = schema.Book{Bids: ev.Book.Bids[:0], Asks: ev.Book.Asks[:0]}
	}
	ev.Drop(ev.Carried() &^ carriedIn(mask)) // only those carried: a trade's decode calls nothing
}

// carriedIn is the out-of-line sections of a mask, as schema names them:
// the mask's bits from secTicker on are schema.Sections in its order.
func carriedIn(mask uint16) schema.Sections { return schema.Sections(mask >> outShift) }

// str reads a string and interns it: a map lookup keyed by string(b) does not
// allocate, so a known string costs nothing.
func (d *Decoder) str(r *reader) string {
	b := r.bytes()
	if len(b) == 0 {
		return ""
	}
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if d.intern == nil {
		d.intern = make(map[string]string)
	}
	if len(d.intern) < maxIntern && len(s) <= maxInternLen {
		d.intern[s] = s
	}
	return s
}

func appendI64(b []byte, v int64) []byte { return binary.LittleEndian.AppendUint64(b, uint64(v)) }

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendID(b []byte, id *schema.ID) []byte {
	p := id.Bytes()
	b = append(b, byte(len(p)))
	return append(b, p...)
}

func appendDecs(b []byte, ds ...schema.Decimal) []byte {
	for _, d := range ds {
		b = binary.AppendVarint(b, d.Mantissa())
		b = append(b, byte(d.Scale()))
	}
	return b
}

func appendLevels(b []byte, lv []schema.Level) []byte {
	b = binary.AppendUvarint(b, uint64(len(lv)))
	for i := range lv {
		b = appendDecs(b, lv[i].Price, lv[i].Qty)
	}
	return b
}

// reader consumes a message; the first error sticks and zero values follow,
// so Decode checks once at the end.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) fail() { r.bad, r.b = true, nil }

func (r *reader) u8() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) bool() bool {
	switch r.u8() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail()
	return false
}

// take consumes n bytes, or fails and returns zeros.
func (r *reader) take(n int) []byte {
	if len(r.b) < n {
		r.fail()
		return make([]byte, 8)[:n] // constant size: stays on the stack
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u16() uint16 { return binary.LittleEndian.Uint16(r.take(2)) }
func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.take(4)) }
func (r *reader) i64() int64  { return int64(binary.LittleEndian.Uint64(r.take(8))) }

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// u32var reads a uvarint that must fit in 32 bits.
func (r *reader) u32var() uint32 {
	v := r.uvarint()
	if v > math.MaxUint32 {
		r.fail()
		return 0
	}
	return uint32(v)
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) id(id *schema.ID) {
	n := int(r.u8())
	if n > len(r.b) {
		r.fail()
		return
	}
	if id.SetBytes(r.b[:n]) != nil {
		r.fail()
		return
	}
	r.b = r.b[n:]
}

func (r *reader) dec() schema.Decimal {
	m := r.varint()
	s := r.u8()
	if s > schema.MaxScale || m == math.MinInt64 { // NewDecimal refuses both
		r.fail()
		return schema.Decimal{}
	}
	return schema.NewDecimal(m, int(s))
}

func (r *reader) decs(ds ...*schema.Decimal) {
	for _, d := range ds {
		*d = r.dec()
	}
}

// minLevel is the fewest bytes a level takes (two decimals of two bytes), so
// a forged count cannot make Decode allocate more than the message's size.
const minLevel = 4

func (r *reader) levels(dst []schema.Level) []schema.Level {
	n := r.uvarint()
	if n > uint64(len(r.b)/minLevel) {
		r.fail()
		return dst
	}
	for i := uint64(0); i < n; i++ {
		var lv schema.Level
		lv.Price, lv.Qty = r.dec(), r.dec()
		dst = append(dst, lv)
	}
	return dst
}
