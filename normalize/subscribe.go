package normalize

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	json "github.com/goccy/go-json/v2"
)

// validName reports whether s is a channel, symbol or topic name a venue
// accepts: letters (any script: Binance lists pairs written in Chinese
// characters), digits and - _ . / @ : ! + (Binance "kline_1d@+08:00"),
// valid UTF-8, at most 200 bytes.
// goccy escapes what it writes; this rejects what no venue names.
func validName(s string) bool {
	if s == "" || len(s) > 200 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && (isAlnumByte(byte(r)) || r == '-' || r == '_' || r == '.' || r == '/' || r == '@' || r == ':' || r == '!' || r == '+'):
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return true
}

// checkNames fails unless there is at least one name and each is valid.
func checkNames(what string, names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("%w: no %s to subscribe", ErrBadValue, what)
	}
	for _, s := range names {
		if !validName(s) {
			return fmt.Errorf("%w: %s %q", ErrBadValue, what, s)
		}
	}
	return nil
}

// marshalRequest encodes a request struct with goccy's v2 API. Requests
// are written once per subscription and kept by the caller: each is a new
// slice.
func marshalRequest(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadValue, err)
	}
	return b, nil
}
