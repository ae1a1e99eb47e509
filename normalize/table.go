package normalize

import (
	"math"

	"github.com/meltica/meltica/schema"
)

// A message type is decoded by a table: for each venue key, what kind of
// value it holds and where in the event it goes. One engine walks every
// table of every venue, so a new message type or venue is a table, not a
// new parser, and the rules (exact digits, no negative prices, ms → ns) are
// applied in one place.

// fieldKind says how a field's value is decoded.
type fieldKind uint8

const (
	kPrice     fieldKind = iota + 1 // non-negative decimal → dec
	kDecimal                        // decimal of any sign → dec
	kDecOrNone                      // decimal of any sign, "" or null for none → dec
	kMillis                         // Unix ms → ns in i64
	kUint                           // non-negative integer → u64
	kSeq                            // integer, -1 for none → u64 when > 0
	kSeqID                          // non-negative integer → u64 and id
	kInt                            // integer of any sign → i64
	kReqID                          // request id: an integer > 0 → u64; strings skipped
	kBool                           // → flag
	kID                             // string or integer id (-1, null: none) → id
	kSymbol                         // venue symbol → the event's interned symbol
	kSide                           // "BUY"/"SELL" → side
	kMakerSide                      // buyer-is-maker bool → aggressor side
	kEnum                           // word in enums → enum (unknown words stay 0)
	kWord                           // word in words → str; unknown words are errors
	kText                           // word in words → str; unknown words are copied
	kLevels                         // book levels shaped by shape (default [[price, qty, …], …]) → levels
	kObject                         // nested object decoded by sub
	kTime                           // RFC 3339 time string → ns in i64
	kChecksum                       // CRC32 as a signed or unsigned integer (or its text) → Book.Checksum
	kPct                            // a ratio (0.0123) → percent (1.23) in dec, digits kept
	kSeconds                        // Unix seconds with a fraction ("1618678142.557535") → ns in i64
	kFirst                          // an array of objects: the first decoded by sub
)

// target is what a table fills: the event, and the two candidate
// timestamps of the message (ExchangeTS is main, or else fallback).
type target struct {
	ev             *schema.CanonicalEvent
	main, fallback int64
}

// field maps one key to a place in the target. Exactly one of the getters
// is set, the one kind needs.
type field struct {
	key    string
	kind   fieldKind
	dec    func(*target) *schema.Decimal
	i64    func(*target) *int64
	u64    func(*target) *uint64
	id     func(*target) *schema.ID
	flag   func(*target) *bool
	side   func(*target) *schema.Side
	enum   func(*target) *uint8
	str    func(*target) *string
	levels func(*target) *[]schema.Level
	enums  map[string]uint8
	words  map[string]string
	sub    *table
	shape  *levelShape // kLevels: how one level is spelled; nil for [price, qty]
	invert bool        // kSide: the venue names the maker's side; the aggressor is the other
}

// levelShape says how a venue spells one book level: a tuple whose
// elements are at the positions price, qty (and side), or an object with
// the keys priceKey, qtyKey (and sideKey). A level with a side goes to the
// bids or the asks by that side; without one, to the field's own side.
type levelShape struct {
	price, qty, side          int // tuple positions; side < 0: none
	priceKey, qtyKey, sideKey string
}

var tupleLevels = levelShape{price: 0, qty: 1, side: -1}

// table is the decoding of one message type (or nested object).
type table struct {
	name     string // message type, for errors
	required string // one-letter keys that must be present
	fields   []field
	byChar   [128]uint8 // 1 + index of the field of each one-letter key
	tuple    bool       // decodes arrays, by position (see decoder.object)
}

// newTuple returns a table for arrays: its keys are positions, "0" to "9".
func newTuple(name string, fields ...field) *table {
	t := newTable(name, "", fields...)
	t.tuple = true
	return t
}

func newTable(name, required string, fields ...field) *table {
	t := &table{name: name, required: required, fields: fields}
	for i, f := range fields {
		if len(f.key) == 1 && f.key[0] < 128 {
			t.byChar[f.key[0]] = uint8(i + 1)
		}
	}
	return t
}

func (t *table) find(key []byte) *field {
	if len(key) == 1 {
		if c := key[0]; c < 128 && t.byChar[c] != 0 {
			return &t.fields[t.byChar[c]-1]
		}
		return nil
	}
	for i := range t.fields {
		if t.fields[i].key == string(key) {
			return &t.fields[i]
		}
	}
	return nil
}

// decoder runs tables; each venue parser owns one.
type decoder struct {
	fields
	syms *Symbols
}

// object decodes the object b with tb into tg; errors go to d.err. key is
// the object's own key when nested ("" for the message).
//
// A tuple table decodes an array as an object whose keys are the positions
// "0" to "9" (Kraken v1 sends its trades and tickers as tuples).
func (d *decoder) object(tg *target, tb *table, b []byte, key string) {
	outer := d.seen
	d.seen = 0
	var it iter
	positional := false
	if i := skipSpace(b, 0); tb.tuple && i < len(b) && b[i] == '[' {
		it.array(b)
		positional = true
	} else {
		it.object(b)
	}
	it.loose = key != "" // a nested object was validated with its parent
	for n := 0; it.next(); n++ {
		if positional {
			it.key = nil
			if n < len(positions) {
				it.key = positions[n : n+1]
			}
		}
		d.mark(it.key)
		if f := tb.find(it.key); f != nil {
			d.value(tg, f, it.val)
		}
	}
	if err := it.finish(); err != nil {
		d.err = nil // the JSON error is the cause of any field error
		d.fail(key, err)
	} else {
		d.require(tb.required)
	}
	d.seen = outer
}

func (d *decoder) value(tg *target, f *field, v []byte) {
	k := f.key
	switch f.kind {
	case kPrice:
		*f.dec(tg) = d.price(k, v)
	case kDecimal:
		*f.dec(tg) = d.decimal(k, v)
	case kDecOrNone:
		if !isNull(v) && string(v) != `""` {
			*f.dec(tg) = d.decimal(k, v)
		}
	case kMillis:
		*f.i64(tg) = d.millis(k, v)
	case kUint:
		*f.u64(tg) = d.unsigned(k, v)
	case kSeq:
		if n := d.integer(k, v); n > 0 {
			*f.u64(tg) = uint64(n)
		}
	case kInt:
		*f.i64(tg) = d.integer(k, v)
	case kReqID:
		if n, ok := parseInt(unquoted(v)); ok && n > 0 {
			*f.u64(tg) = uint64(n)
		}
	case kSeqID:
		n := d.unsigned(k, v)
		*f.u64(tg) = n
		f.id(tg).SetUint(n)
	case kBool: // a JSON boolean, or a word that means true when words has it
		if f.words != nil {
			_, *f.flag(tg) = f.words[string(d.wordText(k, v))]
		} else {
			*f.flag(tg) = d.boolean(k, v)
		}
	case kID:
		d.id(k, v, f.id(tg))
	case kSymbol:
		if t := d.text(k, v); t != nil {
			s, err := d.syms.Lookup(t)
			if err != nil {
				d.fail(k, err)
			}
			tg.ev.Symbol = s
		}
	case kSide:
		s := d.side(k, v)
		if f.invert {
			s = opposite(s)
		}
		*f.side(tg) = s
	case kMakerSide:
		*f.side(tg) = schema.SideBuy
		if d.boolean(k, v) {
			*f.side(tg) = schema.SideSell
		}
	case kEnum:
		*f.enum(tg) = f.enums[string(d.wordText(k, v))]
	case kWord:
		w, ok := f.words[string(d.wordText(k, v))]
		if !ok {
			d.fail(k, errWord)
		}
		*f.str(tg) = w
	case kText:
		*f.str(tg) = d.word(k, v, f.words)
	case kLevels:
		d.levels(tg, f, v)
	case kObject:
		d.object(tg, f.sub, v, k)
	case kTime:
		*f.i64(tg) = d.time(k, v)
	case kChecksum:
		n := d.integer(k, v)
		if n < math.MinInt32 || n > math.MaxUint32 {
			d.fail(k, wrapBad("checksum out of range"))
		}
		tg.ev.Book.Checksum, tg.ev.Book.HasChecksum = uint32(n), true
	case kPct:
		*f.dec(tg) = d.percent(k, v)
	case kSeconds:
		*f.i64(tg) = d.seconds(k, v)
	case kFirst:
		var it iter
		it.array(v)
		it.loose = true
		if it.next() {
			d.object(tg, f.sub, it.val, k)
		}
	}
}

// maxSeconds keeps seconds × 1e9 inside int64.
const maxSeconds = math.MaxInt64/1_000_000_000 - 1

// seconds parses Unix seconds with up to nine decimals into ns.
func (d *decoder) seconds(k string, v []byte) int64 {
	x := d.decimal(k, v)
	mant, scale := x.Mantissa(), x.Scale()
	if d.err != nil {
		return 0
	}
	var p int64 = 1
	for range scale {
		p *= 10
	}
	if mant < 0 || scale > 9 || mant/p > maxSeconds {
		d.fail(k, wrapBad("time out of range"))
		return 0
	}
	ns := mant / p * 1_000_000_000
	frac := mant % p
	for range 9 - scale {
		frac *= 10
	}
	return ns + frac
}

// positions are the keys of an array's first ten elements.
var positions = []byte("0123456789")

// unquoted returns a string value's content, or any other value as is.
func unquoted(v []byte) []byte {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

// sideWords are every spelling of a side the venues use: Binance "BUY",
// Bybit "Buy", Coinbase and Kraken "buy", book sides "bid"/"offer"/"ask",
// Kraken v1 "b"/"s".
var sideWords = map[string]schema.Side{
	"BUY": schema.SideBuy, "Buy": schema.SideBuy, "buy": schema.SideBuy, "bid": schema.SideBuy, "b": schema.SideBuy,
	"SELL": schema.SideSell, "Sell": schema.SideSell, "sell": schema.SideSell, "offer": schema.SideSell, "ask": schema.SideSell, "s": schema.SideSell,
}

func (d *decoder) side(k string, v []byte) schema.Side {
	s, ok := sideWords[string(d.text(k, v))]
	if !ok {
		d.fail(k, errSide)
	}
	return s
}

func opposite(s schema.Side) schema.Side {
	switch s {
	case schema.SideBuy:
		return schema.SideSell
	case schema.SideSell:
		return schema.SideBuy
	}
	return s
}

// wordText is the text of a word sent as a string, or of a number (Kraken
// and Bybit send kline intervals as numbers).
func (d *decoder) wordText(k string, v []byte) []byte {
	if len(v) > 0 && v[0] != '"' {
		return v
	}
	return d.text(k, v)
}

// percent parses a ratio and returns it in percent, keeping its digits:
// "-0.009772" is -0.9772.
func (d *decoder) percent(k string, v []byte) schema.Decimal {
	x := d.decimal(k, v)
	if s := x.Scale(); s >= 2 {
		return schema.NewDecimal(x.Mantissa(), s-2)
	}
	y, err := x.Mul(schema.NewDecimal(100, 0))
	if err != nil {
		d.fail(k, err)
	}
	return y
}

// time parses an RFC 3339 time string into Unix ns, without allocating.
func (d *decoder) time(k string, v []byte) int64 {
	ns, ok := parseRFC3339(d.text(k, v))
	if !ok {
		d.fail(k, wrapBad("want an RFC 3339 time"))
	}
	return ns
}

var (
	errSide  = wrapBad("want buy or sell")
	errWord  = wrapBad("unknown value")
	errLevel = wrapBad("want [price, quantity] levels")
)

// word returns the interned copy of a known word, "" for none, or a copy.
func (d *decoder) word(k string, v []byte, words map[string]string) string {
	t := d.text(k, v)
	if len(t) == 0 {
		return ""
	}
	if w, ok := words[string(t)]; ok {
		return w
	}
	return string(t)
}

// levels appends the levels of a book side (or, for levels that name their
// side, of both sides) to the event. Elements after those the shape names
// (Binance's legacy third, OKX's order counts) are ignored. v was validated
// with its message, so one loose pass reads it.
func (d *decoder) levels(tg *target, f *field, v []byte) {
	sh := f.shape
	if sh == nil {
		sh = &tupleLevels
	}
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '[' {
		d.fail(f.key, errLevel)
		return
	}
	if i = skipSpace(v, i+1); i < len(v) && v[i] == ']' {
		return
	}
	for i < len(v) && (v[i] == '[' || v[i] == '{') {
		var lv schema.Level
		var side schema.Side
		var ok bool
		if v[i] == '[' {
			i, ok = d.tuple(f.key, sh, v, i, &lv, &side)
		} else {
			i, ok = d.levelObject(f.key, sh, v, i, &lv, &side)
		}
		if !ok {
			break
		}
		switch {
		case sh.side < 0:
			*f.levels(tg) = append(*f.levels(tg), lv)
		case side == schema.SideBuy:
			tg.ev.Book.Bids = append(tg.ev.Book.Bids, lv)
		default:
			tg.ev.Book.Asks = append(tg.ev.Book.Asks, lv)
		}
		switch i = skipSpace(v, i); {
		case i < len(v) && v[i] == ',':
			i = skipSpace(v, i+1)
		case i < len(v) && v[i] == ']':
			return
		default:
			i = len(v)
		}
	}
	d.fail(f.key, errLevel)
}

// tuple reads the level [a, b, …] at v[i] and returns the index after it.
func (d *decoder) tuple(k string, sh *levelShape, v []byte, i int, lv *schema.Level, side *schema.Side) (int, bool) {
	have := 0
	for n := 0; ; n++ {
		if i = skipSpace(v, i+1); i >= len(v) || v[i] == ']' {
			break
		}
		e, err := skipLoose(v, i)
		if err != nil || e == i {
			return i, false
		}
		have |= d.levelValue(k, sh, n, v[i:e], lv, side)
		if i = skipSpace(v, e); i >= len(v) || v[i] != ',' {
			break
		}
	}
	return i + 1, i < len(v) && v[i] == ']' && sh.complete(have)
}

// levelObject reads the level {"price": …, …} at v[i] and returns the
// index after it: one loose pass, the object's end found by walking it.
func (d *decoder) levelObject(k string, sh *levelShape, v []byte, i int, lv *schema.Level, side *schema.Side) (int, bool) {
	var it iter
	it.object(v[i:])
	it.loose = true
	have := 0
	for it.next() {
		pos := -1
		switch string(it.key) {
		case sh.priceKey:
			pos = sh.price
		case sh.qtyKey:
			pos = sh.qty
		case sh.sideKey:
			pos = sh.side
		}
		have |= d.levelValue(k, sh, pos, it.val, lv, side)
	}
	return i + it.i, it.err == nil && it.done && sh.complete(have)
}

// complete reports whether a level had its price, its quantity and, when
// the shape has one, its side.
func (sh *levelShape) complete(have int) bool {
	return have&3 == 3 && (sh.side < 0 || have&4 != 0)
}

// levelValue stores the element at position pos and returns its bit:
// price 1, qty 2, side 4, 0 for an element the shape ignores.
func (d *decoder) levelValue(k string, sh *levelShape, pos int, val []byte, lv *schema.Level, side *schema.Side) int {
	switch pos {
	case sh.price:
		lv.Price = d.price(k, val)
		return 1
	case sh.qty:
		lv.Qty = d.price(k, val)
		return 2
	case sh.side:
		*side = d.side(k, val)
		return 4
	}
	return 0
}

// Field constructors, so that tables read as data.

func fPrice(key string, at func(*target) *schema.Decimal) field {
	return field{key: key, kind: kPrice, dec: at}
}
func fDecimal(key string, at func(*target) *schema.Decimal) field {
	return field{key: key, kind: kDecimal, dec: at}
}
func fMillis(key string, at func(*target) *int64) field {
	return field{key: key, kind: kMillis, i64: at}
}
func fUint(key string, at func(*target) *uint64) field {
	return field{key: key, kind: kUint, u64: at}
}
func fID(key string, at func(*target) *schema.ID) field { return field{key: key, kind: kID, id: at} }
func fSymbol(key string) field                          { return field{key: key, kind: kSymbol} }
func fEnum(key string, enums map[string]uint8, at func(*target) *uint8) field {
	return field{key: key, kind: kEnum, enums: enums, enum: at}
}
func fLevels(key string, at func(*target) *[]schema.Level) field {
	return field{key: key, kind: kLevels, levels: at}
}
func fObject(key string, sub *table) field { return field{key: key, kind: kObject, sub: sub} }
func fTime(key string, at func(*target) *int64) field {
	return field{key: key, kind: kTime, i64: at}
}
func fSide(key string, at func(*target) *schema.Side) field {
	return field{key: key, kind: kSide, side: at}
}
func fWord(key string, words map[string]string, at func(*target) *string) field {
	return field{key: key, kind: kWord, words: words, str: at}
}
func fText(key string, at func(*target) *string) field {
	return field{key: key, kind: kText, str: at}
}
func fReqID(key string) field    { return field{key: key, kind: kReqID, u64: reqID} }
func fChecksum(key string) field { return field{key: key, kind: kChecksum} }
func fShaped(key string, shape *levelShape, at func(*target) *[]schema.Level) field {
	return field{key: key, kind: kLevels, shape: shape, levels: at}
}

// Common places in the target.
func mainTime(t *target) *int64     { return &t.main }
func fallbackTime(t *target) *int64 { return &t.fallback }
func seq(t *target) *uint64         { return &t.ev.SeqProvider }
func reqID(t *target) *uint64       { return &t.ev.Control.RequestID }
func reason(t *target) *string      { return &t.ev.Control.Reason }
func code(t *target) *int64         { return &t.ev.Control.Code }

func enumTable[E ~uint8](m map[string]E) map[string]uint8 {
	out := make(map[string]uint8, len(m))
	for k, v := range m {
		out[k] = uint8(v)
	}
	return out
}
