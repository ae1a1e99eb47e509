package normalize

import (
	"fmt"
	"math"

	"github.com/meltica/meltica/schema"
)

// fields turns raw JSON values into canonical field values for one message,
// keeping the first error as a *ParseError naming the field. Every venue
// decodes through it, so the rules (strings or numbers for decimals, no
// negative prices, milliseconds to nanoseconds) are the same everywhere.
type fields struct {
	venue   schema.Venue
	msg     string // message type, for errors
	err     error
	seen    uint64 // bit per one-letter key seen (see letterBit)
	scratch []byte // unescaped string values; reused
}

func (d *fields) begin(msg string) {
	d.msg, d.err, d.seen = msg, nil, 0
}

func (d *fields) fail(field string, err error) {
	if d.err == nil {
		d.err = &ParseError{Venue: d.venue, Stream: d.msg, Field: field, Err: err}
	}
}

// letterBit maps a one-letter key to its bit in fields.seen.
func letterBit(key []byte) uint64 {
	if len(key) != 1 {
		return 0
	}
	return charBit(key[0])
}

func charBit(c byte) uint64 {
	switch {
	case 'a' <= c && c <= 'z':
		return 1 << (c - 'a')
	case 'A' <= c && c <= 'Z':
		return 1 << (26 + c - 'A')
	}
	return 0
}

// mark records that key was present.
func (d *fields) mark(key []byte) { d.seen |= letterBit(key) }

// require fails with ErrMissingField for the first one-letter key of keys
// that was not seen.
func (d *fields) require(keys string) {
	for i := 0; i < len(keys); i++ {
		if d.seen&charBit(keys[i]) == 0 {
			d.fail(keys[i:i+1], ErrMissingField)
			return
		}
	}
}

// text returns a string value's content (nil for null); it aliases the
// message or the scratch buffer, so use it before the next call.
func (d *fields) text(field string, v []byte) []byte {
	if isNull(v) {
		return nil
	}
	s, err := unquote(v, &d.scratch)
	if err != nil {
		d.fail(field, fmt.Errorf("%w: want a string", ErrBadValue))
		return nil
	}
	return s
}

// numText returns the text of a number sent as a JSON string or number.
func (d *fields) numText(field string, v []byte) []byte {
	if len(v) > 0 && v[0] == '"' {
		return d.text(field, v)
	}
	if len(v) == 0 || (v[0] != '-' && !isDigit(v[0])) {
		d.fail(field, fmt.Errorf("%w: want a number", ErrBadValue))
		return nil
	}
	return v
}

// decimal parses a decimal of any sign (changes, funding rates).
func (d *fields) decimal(field string, v []byte) schema.Decimal {
	t := d.numText(field, v)
	if t == nil {
		return schema.Decimal{}
	}
	x, err := schema.ParseDecimalBytes(t)
	if err != nil {
		d.fail(field, err)
	}
	return x
}

// price parses a price or quantity, which may not be negative.
func (d *fields) price(field string, v []byte) schema.Decimal {
	x := d.decimal(field, v)
	if x.Sign() < 0 {
		d.fail(field, ErrNegative)
		return schema.Decimal{}
	}
	return x
}

// integer parses an integer sent as a JSON number or string.
func (d *fields) integer(field string, v []byte) int64 {
	t := d.numText(field, v)
	if t == nil {
		return 0
	}
	n, ok := parseInt(t)
	if !ok {
		d.fail(field, fmt.Errorf("%w: want an integer", ErrBadValue))
	}
	return n
}

// unsigned parses a non-negative integer.
func (d *fields) unsigned(field string, v []byte) uint64 {
	n := d.integer(field, v)
	if n < 0 {
		d.fail(field, fmt.Errorf("%w: negative", ErrBadValue))
		return 0
	}
	return uint64(n)
}

// maxMillis keeps milliseconds × 1e6 inside int64.
const maxMillis = math.MaxInt64 / 1_000_000

// millis parses a Unix time in milliseconds and returns nanoseconds.
func (d *fields) millis(field string, v []byte) int64 {
	n := d.integer(field, v)
	if n < 0 || n > maxMillis {
		d.fail(field, fmt.Errorf("%w: time out of range", ErrBadValue))
		return 0
	}
	return n * 1_000_000
}

// boolean parses true or false.
func (d *fields) boolean(field string, v []byte) bool {
	switch string(v) {
	case "true":
		return true
	case "false":
		return false
	}
	d.fail(field, fmt.Errorf("%w: want a boolean", ErrBadValue))
	return false
}

// id stores a string or non-negative integer identifier; null or -1 (the
// venues' "none") leaves it empty.
func (d *fields) id(field string, v []byte, dst *schema.ID) {
	var t []byte
	if len(v) > 0 && v[0] == '"' {
		t = d.text(field, v)
	} else if !isNull(v) {
		n := d.integer(field, v)
		if n < -1 {
			d.fail(field, fmt.Errorf("%w: negative id", ErrBadValue))
		}
		if n >= 0 {
			dst.SetUint(uint64(n))
		}
		return
	}
	if dst.SetBytes(t) != nil {
		d.fail(field, fmt.Errorf("%w: %w", ErrBadValue, schema.ErrIDTooLong))
	}
}

// parseInt parses an optionally signed run of decimal digits.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

func wrapBad(msg string) error { return fmt.Errorf("%w: %s", ErrBadValue, msg) }

// parseRFC3339 parses "2006-01-02T15:04:05.999999999Z07:00" (a space for
// the T is accepted, as in Coinbase heartbeats) into Unix ns without
// allocating. Fractions beyond nanoseconds are cut; times outside
// 1970–2261 are rejected, so the result always fits int64.
func parseRFC3339(b []byte) (int64, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range b[i : i+n] {
			if !isDigit(c) {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, s := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if y < 1970 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 {
		return 0, false
	}
	i, frac := 19, int64(0)
	if b[i] == '.' {
		i++
		digits := 0
		for ; i < len(b) && isDigit(b[i]); i++ {
			if digits < 9 {
				frac = frac*10 + int64(b[i]-'0')
				digits++
			}
		}
		if digits == 0 {
			return 0, false
		}
		for ; digits < 9; digits++ {
			frac *= 10
		}
	}
	var off int64
	switch {
	case i == len(b)-1 && (b[i] == 'Z' || b[i] == 'z'):
	case i == len(b)-6 && (b[i] == '+' || b[i] == '-') && b[i+3] == ':':
		oh, om := num(i+1, 2), num(i+4, 2)
		if oh < 0 || oh > 23 || om < 0 || om > 59 {
			return 0, false
		}
		off = int64(oh*3600 + om*60)
		if b[i] == '+' {
			off = -off
		}
	default:
		return 0, false
	}
	secs := daysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+s) + off
	if secs < 0 {
		return 0, false
	}
	return secs*1_000_000_000 + frac, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}
