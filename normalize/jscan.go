package normalize

import (
	"fmt"
	"unicode/utf8"
)

// A small strict JSON scanner shared by every venue. It walks the members of
// an object (or the elements of an array) and hands out the raw bytes of each
// key and value, which alias the input: nothing is copied, nothing is
// allocated, and keys are matched exactly (goccy, like encoding/json, matches
// keys case-insensitively, which breaks on Binance's "e"/"E", "t"/"T",
// "m"/"M" pairs). Values that are not looked at are still fully validated
// when skipped, so a message is accepted only if it is valid JSON.

// maxDepth bounds the nesting of skipped values; venue messages nest a few
// levels at most.
const maxDepth = 64

var (
	errJSONSyntax = fmt.Errorf("%w: invalid JSON", ErrMalformed)
	errJSONEOF    = fmt.Errorf("%w: truncated JSON", ErrMalformed)
	errJSONDepth  = fmt.Errorf("%w: JSON nested too deeply", ErrMalformed)
	errJSONType   = fmt.Errorf("%w: unexpected JSON type", ErrMalformed)
)

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string that starts at b[i]
// (which is '"'), and whether it holds a backslash escape.
func skipString(b []byte, i int) (end int, escaped bool, err error) {
	i++
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return i, escaped, errJSONEOF
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return i, escaped, errJSONEOF
				}
				for _, h := range b[i+2 : i+6] {
					if unhex(h) < 0 {
						return i, escaped, errJSONSyntax
					}
				}
				i += 6
			default:
				return i, escaped, errJSONSyntax
			}
		case c < 0x20:
			return i, escaped, errJSONSyntax
		default: // like goccy and encoding/json, invalid UTF-8 is let through
			i++
		}
	}
	return i, escaped, errJSONEOF
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipNumber returns the index just past the JSON number at b[i].
func skipNumber(b []byte, i int) (int, error) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, errJSONEOF
	case b[i] == '0':
		i++
	case isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return i, errJSONSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return i, errJSONSyntax
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, errJSONSyntax
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, nil
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) {
		return i, errJSONEOF
	}
	if string(b[i:i+len(lit)]) != lit {
		return i, errJSONSyntax
	}
	return i + len(lit), nil
}

// skipValue returns the index just past the JSON value that starts at b[i]
// (whitespace first is allowed), validating it completely.
func skipValue(b []byte, i, depth int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return i, errJSONEOF
	}
	switch c := b[i]; c {
	case '"':
		end, _, err := skipString(b, i)
		return end, err
	case '{', '[':
		if depth >= maxDepth {
			return i, errJSONDepth
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, nil
		}
		for {
			var err error
			if c == '{' {
				i = skipSpace(b, i)
				if i >= len(b) {
					return i, errJSONEOF
				}
				if b[i] != '"' {
					return i, errJSONSyntax
				}
				if i, _, err = skipString(b, i); err != nil {
					return i, err
				}
				i = skipSpace(b, i)
				if i >= len(b) {
					return i, errJSONEOF
				}
				if b[i] != ':' {
					return i, errJSONSyntax
				}
				i++
			}
			if i, err = skipValue(b, i, depth+1); err != nil {
				return i, err
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, errJSONEOF
			}
			switch b[i] {
			case ',':
				i++
			case closer:
				return i + 1, nil
			default:
				return i, errJSONSyntax
			}
		}
	case 't':
		return skipLiteral(b, i, "true")
	case 'f':
		return skipLiteral(b, i, "false")
	case 'n':
		return skipLiteral(b, i, "null")
	default:
		return skipNumber(b, i)
	}
}

// skipLoose returns the index just past the value at b[i] without
// validating it: strings end at their closing quote, containers at their
// matching bracket, anything else at the next delimiter. It serves envelope
// splitting and values already validated with their message.
func skipLoose(b []byte, i int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return i, errJSONEOF
	}
	switch b[i] {
	case '"':
		return looseString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				var err error
				if i, err = looseString(b, i); err != nil {
					return i, err
				}
				continue
			case '{', '[':
				if depth++; depth > maxDepth {
					return i, errJSONDepth
				}
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return i, errJSONEOF
	}
	for ; i < len(b); i++ { // a number or literal
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i, nil
		}
	}
	return i, nil
}

// looseString returns the index just past the string at b[i] (a '"').
// Strings are short: a loop beats IndexByte's setup.
func looseString(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i + 1, nil
		case '\\':
			i++
		}
	}
	return len(b), errJSONEOF
}

// iter walks the members of a JSON object or the elements of a JSON array.
// The zero value is an empty, finished iterator.
//
//	var it iter
//	for it.object(b); it.next(); {
//		switch string(it.key) { ... it.val ... }
//	}
//	if err := it.finish(); err != nil { ... }
type iter struct {
	b        []byte
	i        int
	n        int
	isObject bool
	loose    bool // skip values with skipLoose: for envelopes only
	done     bool
	err      error
	key      []byte // the member's key, without quotes or escape decoding
	val      []byte // the raw value: strings keep their quotes
}

// object starts iterating the object b.
func (it *iter) object(b []byte) { it.start(b, '{') }

// array starts iterating the array b.
func (it *iter) array(b []byte) { it.start(b, '[') }

func (it *iter) start(b []byte, open byte) {
	*it = iter{b: b, isObject: open == '{'}
	i := skipSpace(b, 0)
	switch {
	case i >= len(b):
		it.err = errJSONEOF
	case b[i] != open:
		it.err = errJSONType
	default:
		it.i = i + 1
	}
}

// next advances to the next member; it returns false at the end or on error.
func (it *iter) next() bool {
	if it.done || it.err != nil {
		return false
	}
	b := it.b
	i := skipSpace(b, it.i)
	if i >= len(b) {
		it.err = errJSONEOF
		return false
	}
	closer := byte(']')
	if it.isObject {
		closer = '}'
	}
	if b[i] == closer && it.n == 0 {
		it.i, it.done = i+1, true
		return false
	}
	if it.n > 0 {
		switch b[i] {
		case closer:
			it.i, it.done = i+1, true
			return false
		case ',':
			i = skipSpace(b, i+1)
		default:
			it.err = errJSONSyntax
			return false
		}
	}
	var err error
	if it.isObject {
		if i >= len(b) || b[i] != '"' {
			it.fail(i, errJSONSyntax)
			return false
		}
		ks := i
		if it.loose {
			i, err = looseString(b, i)
		} else {
			i, _, err = skipString(b, i)
		}
		if err != nil {
			it.fail(i, err)
			return false
		}
		it.key = b[ks+1 : i-1]
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			it.fail(i, errJSONSyntax)
			return false
		}
		i = skipSpace(b, i+1)
	}
	vs := i
	if it.loose {
		i, err = skipLoose(b, i)
		if err == nil && i == vs {
			err = errJSONSyntax // an empty value
		}
	} else {
		i, err = skipValue(b, i, 1)
	}
	if err != nil {
		it.fail(i, err)
		return false
	}
	it.val = b[vs:i]
	it.i = i
	it.n++
	return true
}

func (it *iter) fail(i int, err error) {
	if i >= len(it.b) && err == errJSONSyntax {
		err = errJSONEOF
	}
	it.err = err
}

// finish reports the first error met, or an error when the iteration was
// stopped early or anything but whitespace follows the value.
func (it *iter) finish() error {
	if it.err != nil {
		return it.err
	}
	if !it.done {
		return errJSONSyntax
	}
	if skipSpace(it.b, it.i) != len(it.b) {
		return errJSONSyntax
	}
	return nil
}

// isNull reports whether a raw value is JSON null.
func isNull(v []byte) bool { return string(v) == "null" }

// unquote returns the content of the JSON string v. Strings without escapes
// (all that venues send in practice) are returned as a sub-slice of v; an
// escaped string is decoded into *scratch, which is reused.
func unquote(v []byte, scratch *[]byte) ([]byte, error) {
	if len(v) < 2 || v[0] != '"' {
		return nil, errJSONType
	}
	s := v[1 : len(v)-1]
	bs := -1
	for i, c := range s { // short strings: a loop beats IndexByte's setup
		if c == '\\' {
			bs = i
			break
		}
	}
	if bs < 0 {
		return s, nil
	}
	out := append((*scratch)[:0], s[:bs]...)
	for i := bs; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return nil, errJSONSyntax
		}
		switch s[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := decodeU(s[i:])
			if n == 0 {
				return nil, errJSONSyntax
			}
			out = utf8.AppendRune(out, r)
			i += n
			continue
		default: // '"', '\\', '/': validated by skipString
			out = append(out, s[i+1])
		}
		i += 2
	}
	*scratch = out
	return out, nil
}

// decodeU decodes \uXXXX (or a surrogate pair of them) at the start of s.
func decodeU(s []byte) (rune, int) {
	hex4 := func(b []byte) rune {
		if len(b) < 4 {
			return -1
		}
		var r rune
		for _, c := range b[:4] {
			h := unhex(c)
			if h < 0 {
				return -1
			}
			r = r<<4 | rune(h)
		}
		return r
	}
	if len(s) < 6 {
		return 0, 0
	}
	r := hex4(s[2:])
	if r < 0 {
		return 0, 0
	}
	if r >= 0xD800 && r < 0xDC00 && len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
		if lo := hex4(s[8:]); lo >= 0xDC00 && lo < 0xE000 {
			return (r-0xD800)<<10 | (lo - 0xDC00) + 0x10000, 12
		}
	}
	if r >= 0xD800 && r < 0xE000 {
		return utf8.RuneError, 6
	}
	return r, 6
}
