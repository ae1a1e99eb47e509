package normalize

import (
	"math"

	"github.com/goccy/go-json/jsontext"

	"github.com/meltica/meltica/schema"
)

// filler moves a decoded message into its event and applies the rules
// every venue shares — no negative prices, milliseconds to nanoseconds,
// interned symbols — keeping the first error as a *ParseError that names
// the venue's key. A field that was not sent leaves the event unchanged.
type filler struct {
	p              *Parser
	ev             *schema.CanonicalEvent
	name           string // message type, for errors
	symKey         string // the key a missing symbol is reported under
	err            error
	main, fallback int64     // candidate times: ExchangeTS is main, else fallback
	merge          mergeMode // the message's kind: a whole ticker or a delta
	// repeat: the message only repeats what was delivered (a contract
	// status unchanged): dropped and counted in Stats.Repeats.
	repeat bool
	// ignore: the message is of a known kind but not the event its kind
	// makes (a Bybit execution row of no order: a funding fee): dropped
	// and counted in Stats.Ignored.
	ignore bool
	// memo: the per-order or per-stream memory the message changes (a
	// Coinbase order's fills so far, a Bybit working order), its change
	// held until the message is accepted: run commits it after the
	// message's last refusal, so a refused message changes nothing.
	memo memo
	// amend: what the message says of an amendment of its order (OKX's
	// amendResult), for repeatFill; the message's own, never the
	// parser's, so a refused message leaves nothing behind.
	amend amendResult
	// cross: a book message's cross sequence (Bybit seq), which
	// checkBook takes as continuity.IDs.Cross; 0 when none.
	cross uint64
}

// memo is a venue parser's memory of orders or streams whose change a
// message's fill computed and held (one change at a time); commit makes
// it. A message refused after its fill (an envelope's time that is no
// instant, a later field's fault) never commits: the next message is read
// as if the refused one had not come (contract 6).
type memo interface{ commit() }

// symMemo is a per-symbol value a message's fill computed (a Kraken
// book's depth, a Binance contract's status), held until the message is
// accepted: commit sets it in the map, or deletes the symbol's entry
// (del). A symbol not in the map is added only while the parser follows
// fewer than its bound of streams (emitter.room, which counts the
// message as untracked when it may not).
type symMemo[V any] struct {
	p   *Parser
	m   *map[string]V
	sym string
	v   V
	del bool
}

// hold makes v the value of sym in *m once f's message is accepted.
func (s *symMemo[V]) hold(f *filler, m *map[string]V, sym string, v V) {
	*s = symMemo[V]{p: f.p, m: m, sym: sym, v: v}
	f.memo = s
}

// fits reports whether commit would keep a value of sym in m: sym is
// known, or there is room for another.
func fits[V any](p *Parser, m map[string]V, sym string) bool {
	_, known := m[sym]
	return known || len(m) < p.streams
}

func (s *symMemo[V]) commit() {
	m := s.m
	if s.del {
		delete(*m, s.sym)
	} else {
		if *m == nil {
			*m = make(map[string]V)
		}
		if _, ok := (*m)[s.sym]; ok || s.p.room(len(*m)) {
			(*m)[s.sym] = s.v
		}
	}
	*s = symMemo[V]{}
}

func (f *filler) begin(p *Parser, k *kind, ev *schema.CanonicalEvent) {
	*f = filler{p: p, ev: ev, name: k.name, symKey: "s", merge: k.merge}
}

func (f *filler) fail(field string, err error) {
	if f.err == nil {
		f.err = &ParseError{Venue: f.p.venue, Stream: f.name, Field: field, Err: err}
	}
}

// need fails with ErrMissingField unless the key was sent.
func (f *filler) need(field string, ok bool) {
	if !ok {
		f.fail(field, ErrMissingField)
	}
}

// keySent is a member's key and whether it was sent, for needAll.
type keySent struct {
	key string
	ok  bool
}

// needAll fails with ErrMissingField at the first key not sent.
func (f *filler) needAll(keys ...keySent) {
	for _, k := range keys {
		f.need(k.key, k.ok)
	}
}

// errFillAtZero: a report carrying a fill says the fill's price was 0.
var errFillAtZero = wrapBad("a fill at price 0")

// needFillPrice refuses an execution report that carries a fill (an
// ExecTrade, or a positive LastFillQty) without its price: a key not sent
// (or sent "", null) is ErrMissingField, a price of 0 ErrBadValue — never
// a fill delivered at price 0. Call it once the fill's quantity and
// ExecType are set.
func (f *filler) needFillPrice(field string, n num) {
	if x := f.ev.Exec; x == nil || (x.ExecType != schema.ExecTrade && x.LastFillQty.Sign() <= 0) {
		return
	}
	switch {
	case !n.ok:
		f.fail(field, ErrMissingField)
	case n.v.Sign() == 0:
		f.fail(field, errFillAtZero)
	}
}

// price sets a price or quantity, which may not be negative.
func (f *filler) price(dst *schema.Decimal, field string, n num) {
	if !n.ok {
		return
	}
	if n.v.Sign() < 0 {
		f.fail(field, ErrNegative)
		return
	}
	*dst = n.v
}

// errPriceZero: a trade, liquidation or book level at price 0.
var errPriceZero = wrapBad("price 0")

// errQtyZero: a trade or liquidation of quantity 0.
var errQtyZero = wrapBad("quantity 0")

// positive sets a price that must be above 0: a trade's or a
// liquidation's (no venue trades at 0: every tick is positive). Negative
// is ErrNegative, 0 ErrBadValue.
func (f *filler) positive(dst *schema.Decimal, field string, n num) {
	f.aboveZero(dst, field, n, errPriceZero)
}

// size sets the quantity of a public trade or a liquidation, which must be
// above 0: a print is of something traded (Binance "Trade Streams" and
// "Aggregate Trade Streams" "q", "Liquidation Order Streams" "q"; Bybit v5
// "Trade" "v", "All Liquidation" "v", "Liquidation" "size"; OKX v5
// "Trades channel" and "Liquidation orders channel" "sz"; Coinbase
// Exchange "match" and Advanced Trade "market_trades" "size"; Kraken v2
// "trade" "qty", v1 "trade" volume): none documents a trade of nothing.
// "0" and "-0" (the same [schema.Decimal]) are ErrBadValue, a negative
// quantity ErrNegative. Book levels are not sizes: quantity 0 deletes.
func (f *filler) size(dst *schema.Decimal, field string, n num) {
	f.aboveZero(dst, field, n, errQtyZero)
}

// aboveZero sets a decimal that must be above 0: 0 fails with zero,
// negative with ErrNegative; a member not sent leaves dst unchanged.
func (f *filler) aboveZero(dst *schema.Decimal, field string, n num, zero error) {
	if n.ok && n.v.Sign() == 0 {
		f.fail(field, zero)
		return
	}
	f.price(dst, field, n)
}

// decimal sets a decimal of any sign (changes, fees, funding rates).
func (f *filler) decimal(dst *schema.Decimal, n num) {
	if n.ok {
		*dst = n.v
	}
}

// maxMillis keeps milliseconds × 1e6 inside int64.
const maxMillis = math.MaxInt64 / 1_000_000

// millis sets a Unix time in milliseconds (or the parser's
// Options.TimeUnit) as nanoseconds.
func (f *filler) millis(dst *int64, field string, n integer) {
	if !n.ok {
		return
	}
	scale := f.p.tsScale
	if scale == 0 { // a Parser not built by newParser
		scale = 1_000_000
	}
	if n.v < 0 || n.v > math.MaxInt64/scale {
		f.fail(field, errTime)
		return
	}
	*dst = n.v * scale
}

// seconds sets Unix seconds with up to nine decimals as nanoseconds.
func (f *filler) seconds(dst *int64, field string, n num) {
	if !n.ok {
		return
	}
	ns, ok := secondsToNanos(n.v)
	if !ok {
		f.fail(field, errTime)
		return
	}
	*dst = ns
}

// unsigned sets a non-negative integer.
func (f *filler) unsigned(dst *uint64, field string, n integer) {
	if !n.ok {
		return
	}
	if n.v < 0 {
		f.fail(field, wrapBad("negative"))
		return
	}
	*dst = uint64(n.v)
}

// seq sets a sequence where -1 (or 0) means none.
func (f *filler) seq(dst *uint64, n integer) {
	if n.ok && n.v > 0 {
		*dst = uint64(n.v)
	}
}

// seqID sets a non-negative integer id as both the sequence and an id.
func (f *filler) seqID(field string, id *schema.ID, n integer) {
	if !n.ok {
		return
	}
	f.unsigned(&f.ev.SeqProvider, field, n)
	if n.v >= 0 {
		id.SetUint(uint64(n.v))
	}
}

// idSeq sets an id the venue sends as an opaque string (Coinbase
// Advanced Trade trade_id, "000000000" in its docs) verbatim — never
// renumbered, so no two ids collide — and, where it is a decimal number,
// the sequence to its value.
func (f *filler) idSeq(id *schema.ID, x ident) {
	f.id(id, x)
	if n, ok := tradeNumber(id.Bytes()); ok {
		f.ev.SeqProvider = n
	}
}

// symbol sets the event's symbol from the venue's.
func (f *filler) symbol(field string, t *text) {
	f.symKey = field
	if !t.ok {
		return
	}
	s, err := f.p.syms.Lookup(t.bytes())
	if err != nil {
		f.fail(field, err)
		return
	}
	f.ev.Symbol = s
}

// id sets an identifier.
func (f *filler) id(dst *schema.ID, x ident) {
	if x.ok {
		*dst = x.v
	}
}

// side sets a side from any venue's spelling of it.
func (f *filler) side(dst *schema.Side, field string, t *text) {
	if !t.ok {
		return
	}
	s, ok := sideWords[string(t.bytes())]
	if !ok {
		f.fail(field, errSide)
		return
	}
	*dst = s
}

// word sets the interned copy of a known word; an unknown one is an error.
func (f *filler) word(dst *string, field string, words map[string]string, w *word) {
	if !w.ok {
		return
	}
	s, ok := words[string(w.bytes())]
	if !ok {
		f.fail(field, errWord)
		return
	}
	*dst = s
}

// time sets an RFC 3339 time as Unix ns.
func (f *filler) time(dst *int64, field string, t *text) {
	if !t.ok {
		return
	}
	ns, ok := parseRFC3339(t.bytes())
	if !ok {
		f.fail(field, wrapBad("want an RFC 3339 time"))
		return
	}
	*dst = ns
}

// known sets the value of a known word; an unknown one is an error.
func known[E ~uint8](f *filler, dst *E, field string, m map[string]E, t *text) {
	if !t.ok {
		return
	}
	v, ok := m[string(t.bytes())]
	if !ok {
		f.fail(field, errWord)
	}
	*dst = v
}

// enum returns the value of a known word, or the zero value (Unknown) for
// words the venue may add.
func enum[E ~uint8](m map[string]E, t *text) E { return m[string(t.bytes())] }

// text returns the interned copy of a known word, "" for none, or a copy.
func internOrCopy(words map[string]string, t *text) string {
	if t.n == 0 {
		return ""
	}
	if w, ok := words[string(t.bytes())]; ok {
		return w
	}
	return string(t.bytes())
}

// reqID is a request id: an integer > 0 (or its text) is kept; other ids
// (WS-API ids may be any string) are skipped, not errors.
type reqID struct{ v uint64 }

func (r *reqID) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	if n, ok := parseInt(unquoted(v)); ok && n > 0 {
		r.v = uint64(n)
	}
	return nil
}

// flag is a JSON boolean that records whether it was sent.
type flag struct{ v, ok bool }

func (b *flag) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	switch string(v) {
	case "true":
		b.v, b.ok = true, true
	case "false":
		b.ok = true
	case "null":
	default:
		return wrapBad("want a boolean")
	}
	return nil
}

// checksum sets a CRC32 sent as a signed or unsigned integer (or its text).
func (f *filler) checksum(field string, n integer) {
	if !n.ok {
		return
	}
	if n.v < math.MinInt32 || n.v > math.MaxUint32 {
		f.fail(field, wrapBad("checksum out of range"))
		return
	}
	f.ev.Book.Checksum, f.ev.Book.HasChecksum = uint32(n.v), true
}

// percent sets a ratio (0.0123) as percent (1.23), digits kept:
// "-0.009772" is -0.9772.
func (f *filler) percent(dst *schema.Decimal, field string, n num) {
	if !n.ok {
		return
	}
	if s := n.v.Scale(); s >= 2 {
		*dst = schema.NewDecimal(n.v.Mantissa(), s-2)
		return
	}
	y, err := n.v.Mul(schema.NewDecimal(100, 0))
	if err != nil {
		f.fail(field, err)
		return
	}
	*dst = y
}

// emptyMsg is a control message that carries nothing kept (heartbeats):
// decoding it still validates the message.
type emptyMsg struct{}

func (*emptyMsg) fill(*filler) {}
