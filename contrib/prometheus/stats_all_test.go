package prometheus

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/dispatch/merge"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// fill sets every field of the struct *p to a distinct value and returns,
// per field, the value a metric must carry: numbers base+i, a time.Time
// Unix second base+i, a time.Duration base+i seconds. Fields of other
// kinds (strings, arrays, enums) are returned with NaN: they must be
// exempted by name.
func fill(p any, base int) map[string]float64 {
	v := reflect.ValueOf(p).Elem()
	out := map[string]float64{}
	for i := range v.NumField() {
		f, x := v.Type().Field(i), float64(base+i)
		switch fv := v.Field(i); {
		case f.Type == reflect.TypeFor[time.Time]():
			fv.Set(reflect.ValueOf(time.Unix(int64(base+i), 0)))
		case f.Type == reflect.TypeFor[time.Duration]():
			fv.SetInt(int64(base+i) * int64(time.Second))
		case fv.Kind() == reflect.Uint64 || fv.Kind() == reflect.Uint32:
			fv.SetUint(uint64(base + i))
		case fv.Kind() == reflect.Int || fv.Kind() == reflect.Int64:
			fv.SetInt(int64(base + i))
		default:
			x = -1
		}
		out[f.Name] = x
	}
	return out
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// exported collects s through f and returns each value's metric names and
// types.
func exported[S any](f *family[S], s *S) map[float64][]seriesValue {
	var out series
	f.collect(&out, s)
	m := map[float64][]seriesValue{}
	for _, v := range out.list {
		m[v.val] = append(m[v.val], v)
	}
	return m
}

// checkFamily fails for every field of S that no metric of f carries and
// that exempt does not name (with the reason it is not a metric of f), and
// for metrics whose names break Prometheus's conventions: a counter ends in
// _total, a gauge does not, a time or duration is in _seconds.
func checkFamily[S any](t *testing.T, f *family[S], exempt map[string]string) {
	t.Helper()
	var s S
	want := fill(&s, 1000)
	got := exported(f, &s)
	typ := reflect.TypeFor[S]()
	for name, val := range want {
		if _, ok := exempt[name]; ok {
			continue
		}
		vs := got[val]
		if !assert.NotEmpty(t, vs, "%s.%s is not exported (add a metric, or exempt it with the reason)", typ, name) {
			continue
		}
		for _, v := range vs {
			n := fqName.FindStringSubmatch(v.desc.String())[1]
			if v.typ == prom.CounterValue {
				assert.True(t, strings.HasSuffix(n, "_total"), "%s: a counter ends in _total", n)
			} else {
				assert.False(t, strings.HasSuffix(n, "_total"), "%s: a gauge does not end in _total", n)
			}
			if ft, _ := typ.FieldByName(name); ft.Type == reflect.TypeFor[time.Time]() || ft.Type == reflect.TypeFor[time.Duration]() {
				assert.True(t, strings.HasSuffix(n, "_seconds"), "%s: a time is in seconds", n)
			}
		}
	}
	for name := range exempt {
		_, ok := want[name]
		assert.True(t, ok, "%s.%s is exempted but is no field", typ, name)
	}
}

// TestEveryStatsFieldExported fails when one of Meltica's Stats structs
// gains a field the collector does not export (or exempt with a reason),
// and when a metric's name breaks the conventions.
func TestEveryStatsFieldExported(t *testing.T) {
	c := New(nil)
	t.Run("pool", func(t *testing.T) {
		checkFamily[pool.Stats](t, c.pools, map[string]string{"Name": "label pool", "Type": "label type"})
	})
	t.Run("wsclient", func(t *testing.T) {
		checkFamily[wsclient.Stats](t, c.clients, map[string]string{
			"State":      "ws_up",
			"ConnID":     "an identifier, not a measure",
			"Reconnects": "ws_reconnects_total by reason (TestCollectorValues)",
		})
	})
	t.Run("normalize", func(t *testing.T) { checkFamily[normalize.Stats](t, c.parsers, nil) })
	t.Run("book", func(t *testing.T) { checkFamily[book.Stats](t, c.books, nil) })
	t.Run("dispatch", func(t *testing.T) {
		checkFamily[dispatch.Stats](t, c.subs, map[string]string{"InHandType": "the type of the event InHand counts, not a measure"})
	})
	t.Run("recorder", func(t *testing.T) { checkFamily[recorder.Stats](t, c.recs, nil) })
	t.Run("merged", func(t *testing.T) { checkFamily[dispatch.MergedStats](t, c.merged, nil) })
	t.Run("merger", func(t *testing.T) { checkFamily[merge.Stats](t, c.mergers, nil) })
	t.Run("session connection", func(t *testing.T) {
		checkFamily[session.ConnStats](t, c.conns, map[string]string{
			"Conn":   "label connection",
			"Client": "ws_* of the connection (TestReviewSession)",
			"Parser": "parser_* of the connection (TestReviewSession)",
		})
	})
	t.Run("session orders", func(t *testing.T) {
		checkFamily[session.OrderStats](t, c.orders, map[string]string{
			"OpenCountKnown": "a bool: the orders_open_count_known gauge, 1 or 0 (TestOpenCountKnownGauge)",
		})
	})
	// The session's other parts are exported through the families above,
	// in Collect: a field added to them must be added there too.
	t.Run("session", func(t *testing.T) {
		assert.Equal(t, []string{"Market", "Orders", "Trade", "Order", "Books", "Pools", "OnStatePanics"}, fieldNames[session.Stats]())
		got := exported(c.sess, &session.Stats{OnStatePanics: 7})
		if assert.Len(t, got[7], 1, "session.Stats.OnStatePanics is not exported") {
			assert.Contains(t, got[7][0].desc.String(), "meltica_session_on_state_panics_total")
		}
		assert.Equal(t, []string{"Symbol", "Live", "Book"}, fieldNames[session.BookStats]())
	})
}

func fieldNames[S any]() []string {
	var out []string
	for f := range reflect.TypeFor[S]().Fields() {
		out = append(out, f.Name)
	}
	return out
}

// TestOpenCountKnownGauge: session.OrderStats.OpenCountKnown is exported
// as a 0/1 gauge.
func TestOpenCountKnownGauge(t *testing.T) {
	c := New(nil)
	for _, known := range []bool{false, true} {
		got := exported(c.orders, &session.OrderStats{OpenCountKnown: known})
		want := 0.0
		if known {
			want = 1
		}
		found := false
		for val, vs := range got {
			for _, v := range vs {
				if strings.Contains(v.desc.String(), "open_count_known") {
					found = true
					assert.Equal(t, want, val)
				}
			}
		}
		assert.True(t, found, "open_count_known exported")
	}
}
