package normalize

import "fmt"

// validName reports whether s is a channel, symbol or topic name that can
// be written into a JSON request without escaping.
func validName(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnumByte(c) && c != '-' && c != '_' && c != '.' && c != '/' && c != '@' && c != ':' {
			return false
		}
	}
	return true
}

// appendNames appends names as a JSON array of strings, then end.
func appendNames(b []byte, names []string, end byte) ([]byte, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no names to subscribe", ErrBadValue)
	}
	b = append(b, '[')
	for i, s := range names {
		if !validName(s) {
			return nil, fmt.Errorf("%w: name %q", ErrBadValue, s)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), s...), '"')
	}
	return append(append(b, ']'), end), nil
}
