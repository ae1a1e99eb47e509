package prometheus_test

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/prometheus"
	"github.com/meltica/meltica/normalize"
)

// TestEveryParserCounterExported fails when normalize.Stats gains a counter
// the collector does not export: each uint64 field, set to a distinct
// value, must come out as meltica_parser_<snake_case>_total with it.
func TestEveryParserCounterExported(t *testing.T) {
	var st normalize.Stats
	v := reflect.ValueOf(&st).Elem()
	want := map[string]float64{}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Type.Kind() != reflect.Uint64 {
			continue
		}
		v.Field(i).SetUint(uint64(100 + i))
		want["meltica_parser_"+snake(f.Name)+"_total"] = float64(100 + i)
	}
	col := prometheus.New(nil)
	col.AddParser("binance", "main", fixedParser{st})
	reg := prom.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.GetCounter() != nil {
				got[mf.GetName()] = m.GetCounter().GetValue()
			}
		}
	}
	for name, val := range want {
		assert.Equal(t, val, got[name], "%s: a normalize.Stats counter the collector does not export", name)
	}
}

var upper = regexp.MustCompile(`([a-z0-9])([A-Z])`)

func snake(s string) string { return strings.ToLower(upper.ReplaceAllString(s, "${1}_${2}")) }
