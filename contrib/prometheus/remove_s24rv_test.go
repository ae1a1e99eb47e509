package prometheus_test

import (
	"strconv"
	"strings"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/prometheus"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// seriesOf counts the series whose name starts with prefix.
func seriesOf(v map[string]float64, prefix string) int {
	n := 0
	for k := range v {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// Review s24rv: a subscription that ended (Unsubscribe) kept its series
// for ever, and a host that subscribes and unsubscribes all day (a
// strategy per instrument, options listed and delisted) grew the
// collector's sources and the scrape's series without bound — the
// cardinality Prometheus' docs warn of ("every unique combination of
// key-value label pairs represents a new time series", Instrumentation
// best practices: "Do not overuse labels"). Remove takes a source away:
// its series go at the next scrape, the others stay.
func TestS24rvRemoveEndsSeries(t *testing.T) {
	d := dispatch.New(schema.NewPools(nil).Events, nil)
	defer func() { require.NoError(t, d.Close(t.Context())) }()
	col := prometheus.New(nil)
	reg := prom.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	keep, err := d.Subscribe(dispatch.Filter{}, nil)
	require.NoError(t, err)
	col.AddSubscription("keep", keep)
	for i := range 100 {
		s, err := d.Subscribe(dispatch.Filter{Symbols: []string{"OPT-" + strconv.Itoa(i)}}, nil)
		require.NoError(t, err)
		name := "strategy-" + strconv.Itoa(i)
		col.AddSubscription(name, s)
		require.NoError(t, d.Unsubscribe(s))
		assert.Equal(t, 1, col.Remove(s), "one source removed")
		assert.Equal(t, 0, col.Remove(s), "removed already")
	}
	v := values(t, reg)
	assert.Equal(t, 1, seriesOf(v, "meltica_subscription_delivered_total/"), "%v", v)
	assert.Contains(t, v, "meltica_subscription_delivered_total/keep")

	// Every kind of source added by value: a parser (a struct value, as a
	// host may pass one) is removed by the value it was added with.
	p := fixedParser{normalize.Stats{Messages: 7}}
	col.AddParser(schema.VenueKraken, "book", p)
	assert.Equal(t, 7.0, values(t, reg)["meltica_parser_messages_total/book/kraken"])
	assert.Equal(t, 1, col.Remove(p))
	assert.NotContains(t, values(t, reg), "meltica_parser_messages_total/book/kraken")
	// Not a source, or not comparable: nothing removed, no panic.
	assert.Equal(t, 0, col.Remove(nil))
	assert.Equal(t, 0, col.Remove([]int{1}))
}
