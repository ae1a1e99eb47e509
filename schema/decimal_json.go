package schema

import "github.com/goccy/go-json/jsontext"

// UnmarshalJSONFrom reads a decimal through goccy/go-json's v2 API (its
// UnmarshalerFrom interface): a quoted string or a bare JSON number, digits
// kept as sent ("0.10000000" keeps its scale 8); escapes in the string are
// decoded; null leaves d at zero. It reads one value from in and does not
// allocate, except for an error.
func (d *Decimal) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	switch {
	case len(v) == 0:
		return &DecimalError{Err: ErrDecimalEmpty}
	case v[0] == '"':
		if hasBackslash(v) {
			var buf [64]byte
			if len(v) > len(buf) {
				return &DecimalError{Input: string(v), Err: ErrDecimalSyntax}
			}
			s, err := jsontext.AppendUnquote(buf[:0], v)
			if err != nil {
				return &DecimalError{Input: string(v), Err: ErrDecimalSyntax}
			}
			return d.UnmarshalText(s)
		}
	case v[0] != '-' && (v[0] < '0' || v[0] > '9') && string(v) != "null":
		return &DecimalError{Input: string(v), Err: ErrDecimalSyntax}
	}
	return d.UnmarshalJSON(v)
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
