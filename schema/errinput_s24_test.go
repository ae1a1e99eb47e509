package schema_test

import (
	"strings"
	"testing"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Bad venue input costs a typed error and nothing else: a megabyte of
// digits (or of garbage) in a price makes a short error, not a copy of the
// megabyte in the error and in every log line that prints it.
func TestS24LongBadInputMakesAShortError(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"digits":  strings.Repeat("9", 1<<20),
		"garbage": "1" + strings.Repeat("x", 1<<20),
		"scale":   "0." + strings.Repeat("1", 1<<20),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := schema.ParseDecimal(in)
			require.Error(t, err)
			var de *schema.DecimalError
			require.ErrorAs(t, err, &de)
			assert.LessOrEqual(t, len(de.Input), 80)
			assert.True(t, strings.HasPrefix(in, strings.TrimSuffix(de.Input, "…")), "the input's first bytes")
			assert.LessOrEqual(t, len(err.Error()), 200)

			var d schema.Decimal
			err = json.Unmarshal([]byte(`"`+in+`"`), &d)
			require.Error(t, err)
			assert.LessOrEqual(t, len(err.Error()), 300)
		})
	}
	// A short input is kept whole.
	_, err := schema.ParseDecimal("1.2.3")
	var de *schema.DecimalError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "1.2.3", de.Input)
}
