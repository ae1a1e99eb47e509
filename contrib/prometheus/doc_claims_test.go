package prometheus_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/prometheus"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// "Metric names start with Options.Namespace ("meltica" by default), then
// the source (pool, ws, parser, book, subscription, recorder); counters end
// in _total, times are in seconds, and every metric carries the labels
// naming its source (pool and type, venue and connection, venue and
// parser, venue and symbol, subscription, recorder)."
func TestDocMetricNamesAndLabels(t *testing.T) {
	col := prometheus.New(nil)
	pools := schema.NewPools(nil)
	col.AddPools(pools.Stats)
	col.AddClient(schema.VenueBinance, "market", fixedClient{wsclient.Stats{}})
	col.AddParser(schema.VenueBinance, "market", fixedParser{normalize.Stats{}})
	b, err := book.NewBook(book.OKX, "BTC-USDT", nil)
	require.NoError(t, err)
	col.AddBook(b)
	d := dispatch.New(pools.Events, nil)
	sub, err := d.Subscribe(dispatch.Filter{}, nil)
	require.NoError(t, err)
	col.AddSubscription("strategy", sub)
	rec, err := recorder.New(filepath.Join(t.TempDir(), "r.jsonl"), nil)
	require.NoError(t, err)
	require.NoError(t, rec.Close())
	col.AddRecorder("tape", rec)

	reg := prom.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	families, err := reg.Gather()
	require.NoError(t, err)

	labels := map[string][]string{
		"pool": {"pool", "type"}, "ws": {"connection", "venue"}, "parser": {"parser", "venue"},
		"book": {"symbol", "venue"}, "subscription": {"subscription"}, "recorder": {"recorder"},
	}
	seen := map[string]bool{}
	for _, f := range families {
		name := f.GetName()
		parts := strings.SplitN(name, "_", 3)
		require.Len(t, parts, 3, name)
		assert.Equal(t, "meltica", parts[0], name)
		want, ok := labels[parts[1]]
		if !assert.True(t, ok, "%s: an unknown source", name) {
			continue
		}
		seen[parts[1]] = true
		assert.NotEmpty(t, f.GetHelp(), name)
		if f.GetType().String() == "COUNTER" {
			assert.True(t, strings.HasSuffix(name, "_total"), "counter %s ends in _total", name)
		} else {
			assert.False(t, strings.HasSuffix(name, "_total"), "%s is not a counter", name)
		}
		base := strings.TrimSuffix(name, "_total")
		for _, unit := range []string{"_ms", "_ns", "_us", "_millis", "_nanos", "_milliseconds", "_microseconds", "_nanoseconds"} {
			assert.False(t, strings.HasSuffix(base, unit), "%s: times are in seconds", name)
		}
		for _, m := range f.GetMetric() {
			var names []string
			for _, l := range m.GetLabel() {
				names = append(names, l.GetName())
			}
			for _, w := range want {
				assert.Contains(t, names, w, "%s carries %q", name, w)
			}
		}
	}
	for src := range labels {
		assert.True(t, seen[src], "no metric of source %s", src)
	}
	require.NoError(t, d.Unsubscribe(sub))
}

// The collector "reads the counters the packages already keep —
// pool.Stats, wsclient.Stats, normalize.Stats, book.Stats, dispatch.Stats
// and recorder.Stats": every counter (uint64 field) of each is a metric,
// <namespace>_<source>_<snake_case>_total. (The parser's are also checked
// value by value in TestEveryParserCounterExported.)
func TestDocEveryCounterExported(t *testing.T) {
	col := prometheus.New(nil)
	pools := schema.NewPools(nil)
	col.AddPools(pools.Stats)
	col.AddClient(schema.VenueBinance, "market", fixedClient{wsclient.Stats{}})
	b, err := book.NewBook(book.OKX, "BTC-USDT", nil)
	require.NoError(t, err)
	col.AddBook(b)
	d := dispatch.New(pools.Events, nil)
	sub, err := d.Subscribe(dispatch.Filter{}, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, d.Unsubscribe(sub)) }()
	col.AddSubscription("strategy", sub)
	rec, err := recorder.New(filepath.Join(t.TempDir(), "r.jsonl"), nil)
	require.NoError(t, err)
	require.NoError(t, rec.Close())
	col.AddRecorder("tape", rec)

	reg := prom.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	families, err := reg.Gather()
	require.NoError(t, err)
	have := map[string]bool{}
	for _, f := range families {
		have[f.GetName()] = true
	}
	for source, stats := range map[string]any{
		"pool": pool.Stats{}, "ws": wsclient.Stats{}, "book": book.Stats{}, "subscription": dispatch.Stats{}, "recorder": recorder.Stats{},
	} {
		ty := reflect.TypeOf(stats)
		for i := range ty.NumField() {
			f := ty.Field(i)
			if f.Type.Kind() != reflect.Uint64 || f.Name == "ConnID" { // an id, not a counter
				continue
			}
			token := snake(f.Name)
			if f.Name == "BBODropped" {
				token = "bbo_dropped"
			}
			name := "meltica_" + source + "_" + token + "_total"
			assert.True(t, have[name], "%s.%s is not exported as %s", ty, f.Name, name)
		}
	}
}
