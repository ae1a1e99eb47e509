package schema

import "github.com/goccy/go-json/jsontext"

// UnmarshalJSONFrom reads a decimal through goccy/go-json's v2 API (its
// UnmarshalerFrom interface): a quoted string or a bare JSON number, digits
// kept as sent ("0.10000000" keeps its scale 8); escapes in the string are
// decoded; null leaves d at zero. It reads one value from in and does not
// allocate, except as UnmarshalJSON does.
func (d *Decimal) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	return d.UnmarshalJSON(v)
}

// UnmarshalJSON reads a quoted string (its escapes decoded) or a bare JSON
// number, digits kept; null leaves d at zero. Any other JSON value is
// ErrDecimalSyntax. It does not allocate, except for an error or a string
// with escapes longer than 64 bytes; on error d is unchanged.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*d = Decimal{}
		return nil
	case len(b) == 0:
		return &DecimalError{Err: ErrDecimalEmpty}
	case b[0] == '"':
		if len(b) < 2 || b[len(b)-1] != '"' {
			return &DecimalError{Input: errInput(b), Err: ErrDecimalSyntax}
		}
		if hasBackslash(b) {
			// Decoded into a buffer on the stack; a longer text (RFC 8259
			// §7 lets every character be escaped: "672.00000000" is 74
			// bytes of \u00XX) grows it, the one allocation then.
			var buf [64]byte
			s, err := jsontext.AppendUnquote(buf[:0], b)
			if err != nil {
				return &DecimalError{Input: errInput(b), Err: ErrDecimalSyntax}
			}
			return d.UnmarshalText(s)
		}
		b = b[1 : len(b)-1]
	case b[0] != '-' && (b[0] < '0' || b[0] > '9'):
		return &DecimalError{Input: errInput(b), Err: ErrDecimalSyntax}
	}
	v, err := parseDecimal(b)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func hasBackslash(v []byte) bool {
	for _, c := range v {
		if c == '\\' {
			return true
		}
	}
	return false
}

// MarshalJSONTo writes d through goccy/go-json's v2 API (its MarshalerTo
// interface) as a quoted string, digits kept, without allocating.
func (d Decimal) MarshalJSONTo(out *jsontext.Encoder) error {
	var buf [48]byte
	b := append(buf[:0], '"')
	b = d.AppendTo(b)
	return out.WriteValue(append(b, '"'))
}
