package normalize

import (
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
	kLevels                         // [[price, qty, …], …] → levels
	kObject                         // nested object decoded by sub
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
}

// table is the decoding of one message type (or nested object).
type table struct {
	name     string // message type, for errors
	required string // one-letter keys that must be present
	fields   []field
	byChar   [128]uint8 // 1 + index of the field of each one-letter key
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
func (d *decoder) object(tg *target, tb *table, b []byte, key string) {
	outer := d.seen
	d.seen = 0
	var it iter
	it.object(b)
	it.loose = key != "" // a nested object was validated with its parent
	for it.next() {
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
		if len(v) > 0 && v[0] != '"' && !isNull(v) {
			if n := d.integer(k, v); n > 0 {
				*f.u64(tg) = uint64(n)
			}
		}
	case kSeqID:
		n := d.unsigned(k, v)
		*f.u64(tg) = n
		f.id(tg).SetUint(n)
	case kBool:
		*f.flag(tg) = d.boolean(k, v)
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
		switch string(d.text(k, v)) {
		case "BUY":
			*f.side(tg) = schema.SideBuy
		case "SELL":
			*f.side(tg) = schema.SideSell
		default:
			d.fail(k, errSide)
		}
	case kMakerSide:
		*f.side(tg) = schema.SideBuy
		if d.boolean(k, v) {
			*f.side(tg) = schema.SideSell
		}
	case kEnum:
		*f.enum(tg) = f.enums[string(d.text(k, v))]
	case kWord:
		w, ok := f.words[string(d.text(k, v))]
		if !ok {
			d.fail(k, errWord)
		}
		*f.str(tg) = w
	case kText:
		*f.str(tg) = d.word(k, v, f.words)
	case kLevels:
		*f.levels(tg) = d.levels(k, v, (*f.levels(tg))[:0])
	case kObject:
		d.object(tg, f.sub, v, k)
	}
}

var (
	errSide  = wrapBad("want BUY or SELL")
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

// levels appends the [price, qty] pairs of a book side to dst; elements
// after the second (Binance's legacy third, an empty array) are ignored.
// v was validated with its message, so one loose pass reads it.
func (d *decoder) levels(k string, v []byte, dst []schema.Level) []schema.Level {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '[' {
		d.fail(k, errLevel)
		return dst
	}
	if i = skipSpace(v, i+1); i < len(v) && v[i] == ']' {
		return dst
	}
	for i < len(v) && v[i] == '[' {
		var lv schema.Level
		n := 0
		for i = skipSpace(v, i+1); i < len(v) && v[i] != ']'; n++ {
			e, err := skipLoose(v, i)
			if err != nil || e == i {
				break
			}
			switch n {
			case 0:
				lv.Price = d.price(k, v[i:e])
			case 1:
				lv.Qty = d.price(k, v[i:e])
			}
			if i = skipSpace(v, e); i < len(v) && v[i] == ',' {
				i = skipSpace(v, i+1)
			}
		}
		if n < 2 || i >= len(v) || v[i] != ']' {
			break
		}
		dst = append(dst, lv)
		switch i = skipSpace(v, i+1); {
		case i < len(v) && v[i] == ',':
			i = skipSpace(v, i+1)
		case i < len(v) && v[i] == ']':
			return dst
		default:
			i = len(v)
		}
	}
	d.fail(k, errLevel)
	return dst
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

// Common places in the target.
func mainTime(t *target) *int64     { return &t.main }
func fallbackTime(t *target) *int64 { return &t.fallback }
func seq(t *target) *uint64         { return &t.ev.SeqProvider }

func enumTable[E ~uint8](m map[string]E) map[string]uint8 {
	out := make(map[string]uint8, len(m))
	for k, v := range m {
		out[k] = uint8(v)
	}
	return out
}
