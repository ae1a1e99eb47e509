package schema_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A DecimalError's Input is cut to 64 bytes; the cut must not split a
// rune: a host that logs the error as JSON (goccy/go-json v2 refuses
// invalid UTF-8 by default, RFC 8259 §8.1) or a terminal that shows it
// gets a broken character where the venue sent a whole one.
func TestS24rvErrorInputCutsWholeRunes(t *testing.T) {
	t.Parallel()
	for pad := 60; pad <= 64; pad++ {
		for _, r := range []string{"é", "€", "😀"} {
			in := strings.Repeat("1", pad) + strings.Repeat(r, 4)
			for name, parse := range map[string]func() error{
				"ParseDecimal":      func() error { _, err := schema.ParseDecimal(in); return err },
				"ParseDecimalBytes": func() error { _, err := schema.ParseDecimalBytes([]byte(in)); return err },
				"UnmarshalJSON":     func() error { var d schema.Decimal; return d.UnmarshalJSON([]byte(`"` + in + `"`)) },
			} {
				err := parse()
				var de *schema.DecimalError
				require.True(t, errors.As(err, &de), "%s(%q): %v", name, in, err)
				require.True(t, utf8.ValidString(de.Input), "%s: pad %d %s: Input %q is not UTF-8", name, pad, r, de.Input)
				require.LessOrEqual(t, len(strings.TrimSuffix(de.Input, "…")), 64)
				_, jerr := json.Marshal(struct{ Input string }{de.Input})
				require.NoError(t, jerr, "%s: the error's Input encodes as JSON", name)
			}
		}
	}
}
