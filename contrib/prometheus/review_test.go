package prometheus_test

// Adversarial review, third round (helper nat).

import (
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/prometheus"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// A label value that is not UTF-8 (a symbol as a venue sent it, a name
// built from one) must not take the scrape down: client_golang's
// MustNewConstMetric panics on it, in the registry's collecting goroutine,
// where nothing recovers — the whole process ended. The value is exported
// with the bad bytes replaced (U+FFFD), so every other series stays.
func TestReviewLabelNotUTF8(t *testing.T) {
	col := prometheus.New(nil)
	col.AddParser(schema.Venue("bin\xffance"), "main\xfe", fixedParser{normalize.Stats{Messages: 7}})
	col.AddParser(schema.VenueKraken, "book", fixedParser{normalize.Stats{Messages: 3}})
	ch := make(chan prom.Metric, 1024)
	require.NotPanics(t, func() { col.Collect(ch) })
	close(ch)

	reg := prom.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	v := values(t, reg)
	assert.Equal(t, 7.0, v["meltica_parser_messages_total/main\uFFFD/bin\uFFFDance"], "%v", v)
	assert.Equal(t, 3.0, v["meltica_parser_messages_total/book/kraken"])
}

// Two names that differ only in bytes that are not UTF-8 make one series
// (summed), not a duplicate that fails the whole scrape.
func TestReviewLabelsNotUTF8Collide(t *testing.T) {
	col := prometheus.New(nil)
	col.AddParser(schema.VenueKraken, "a\xff", fixedParser{normalize.Stats{Messages: 1}})
	col.AddParser(schema.VenueKraken, "a\xfe", fixedParser{normalize.Stats{Messages: 2}})
	reg := prom.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	assert.Equal(t, 3.0, values(t, reg)["meltica_parser_messages_total/a\uFFFD/kraken"])
}
