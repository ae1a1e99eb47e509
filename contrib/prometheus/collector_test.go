package prometheus_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/prometheus"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

type fixedClient struct{ s wsclient.Stats }

func (f fixedClient) Stats() wsclient.Stats { return f.s }

type fixedParser struct{ s normalize.Stats }

func (f fixedParser) Stats() normalize.Stats { return f.s }

// Values come straight from the sources' Stats, under their names and
// labels, with a namespace and constant labels of the host's choosing.
func TestCollectorValues(t *testing.T) {
	col := prometheus.New(&prometheus.Options{Namespace: "bot", ConstLabels: prom.Labels{"service": "mm"}})
	var cs wsclient.Stats
	cs.State = schema.ConnConnected
	cs.Messages, cs.Bytes = 42, 4200
	cs.Reconnects[wsclient.ReasonIdle] = 3
	col.AddClient(schema.VenueKraken, "book", fixedClient{cs})
	col.AddParser(schema.VenueKraken, "book", fixedParser{normalize.Stats{Messages: 40, Events: 39, Errors: 1}})

	pools := schema.NewPools(nil)
	ev, err := pools.Events.TryGet()
	require.NoError(t, err)
	col.AddPools(pools.Stats)

	d := dispatch.New(pools.Events, nil)
	sub, err := d.Subscribe(dispatch.Filter{}, nil)
	require.NoError(t, err)
	col.AddSubscription("strategy", sub)

	rec, err := recorder.New(filepath.Join(t.TempDir(), "r.jsonl"), nil)
	require.NoError(t, err)
	rec.Record(&schema.WsFrame{ConnID: 1, ReceivedAt: 1, Data: []byte("x")})
	require.NoError(t, rec.Close())
	col.AddRecorder("tape", rec)

	reg := prom.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP bot_ws_messages_total Messages delivered to the frame handler.
# TYPE bot_ws_messages_total counter
bot_ws_messages_total{connection="book",service="mm",venue="kraken"} 42
# HELP bot_ws_up 1 when the connection is connected, 0 otherwise.
# TYPE bot_ws_up gauge
bot_ws_up{connection="book",service="mm",venue="kraken"} 1
# HELP bot_parser_errors_total Messages dropped with a parse error.
# TYPE bot_parser_errors_total counter
bot_parser_errors_total{parser="book",service="mm",venue="kraken"} 1
# HELP bot_recorder_written_total Frames flushed to a file (counted at each flush).
# TYPE bot_recorder_written_total counter
bot_recorder_written_total{recorder="tape",service="mm"} 1
`), "bot_ws_messages_total", "bot_ws_up", "bot_parser_errors_total", "bot_recorder_written_total"))

	n, err := testutil.GatherAndCount(reg, "bot_ws_reconnects_total")
	require.NoError(t, err)
	assert.Equal(t, wsclient.NumReasons-1, n, "one series per reason")
	mfs, err := reg.Gather()
	require.NoError(t, err)
	found := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" || l.GetName() == "type" {
					key += "/" + l.GetValue()
				}
			}
			switch {
			case m.GetCounter() != nil:
				found[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				found[key] = m.GetGauge().GetValue()
			}
		}
	}
	assert.Equal(t, 3.0, found["bot_ws_reconnects_total/idle"])
	assert.Equal(t, 1.0, found["bot_pool_in_use/*schema.CanonicalEvent"])
	assert.Equal(t, 0.0, found["bot_subscription_delivered_total"])

	pools.Events.Put(ev)
	require.NoError(t, d.Close(context.Background()))
}
