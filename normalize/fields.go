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
