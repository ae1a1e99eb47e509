package prometheus_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/prometheus"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

func values(t *testing.T, reg *prom.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "/" + l.GetValue()
			}
			out[key] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// A live pipeline scraped by many goroutines at once, sources added while
// scraping, then every component closed: no race, no panic, every scrape
// consistent, and after Close the gauges say closed (up 0, nothing
// queued), not the last live values.
func TestAdvConcurrentScrapesAndClose(t *testing.T) {
	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000})
	defer venue.Close()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
	require.NoError(t, err)
	parser := normalize.NewBinance(pools.Events, d, nil)
	rec, err := recorder.New(filepath.Join(t.TempDir(), "r.jsonl"), &recorder.Options{Queue: 1 << 14})
	require.NoError(t, err)
	client, err := wsclient.New(venue.StreamURL("btcusdt@trade", "btcusdt@bookTicker"), rec.Tap(parser.HandleFrame),
		&wsclient.Options{Venue: schema.VenueBinance, Frames: pools.Frames})
	require.NoError(t, err)
	runErr := make(chan error, 1)
	go func() { runErr <- client.Run(context.Background()) }()

	col := prometheus.New(nil)
	reg := prom.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	col.AddPools(pools.Stats)
	col.AddClient(schema.VenueBinance, "main", client)

	stopScraping := scrape(t, reg, 4)
	col.AddParser(schema.VenueBinance, "main", parser)
	col.AddSubscription("all", sub)
	col.AddRecorder("tape", rec)
	require.Eventually(t, func() bool { return values(t, reg)["meltica_ws_up/main/binance"] == 1 && sub.Stats().Delivered > 200 },
		30*time.Second, time.Millisecond)
	stopScraping()

	require.NoError(t, client.Close(context.Background()))
	require.NoError(t, <-runErr)
	require.NoError(t, rec.Close())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))

	v := values(t, reg)
	assert.Equal(t, 0.0, v["meltica_ws_up/main/binance"], "a closed client is not up")
	assert.Equal(t, 0.0, v["meltica_subscription_depth/all"], "a closed subscription queues nothing")
	assert.Equal(t, float64(rec.Stats().Written), v["meltica_recorder_written_total/tape"])
	assert.Equal(t, float64(client.Stats().Messages), v["meltica_parser_messages_total/main/binance"], "every message parsed")
	for k, x := range v {
		if len(k) > len("meltica_pool_in_use") && k[:len("meltica_pool_in_use")] == "meltica_pool_in_use" {
			assert.Zero(t, x, "%s: every object back after Shutdown", k)
		}
	}
}

// scrape starts n goroutines that gather reg until the function it returns
// is called (it waits for them); a failed gather fails the test.
func scrape(t *testing.T, reg *prom.Registry, n int) func() {
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := reg.Gather(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	return func() {
		close(stop)
		wg.Wait()
	}
}

// Two pipelines (two venues, each with its schema.Pools) in one process:
// a scrape must not fail on their pools having the same names, and must not
// hide one of them.
func TestAdvTwoPoolSets(t *testing.T) {
	a, b := schema.NewPools(nil), schema.NewPools(nil)
	ea, err := a.Events.TryGet()
	require.NoError(t, err)
	eb1, err := b.Events.TryGet()
	require.NoError(t, err)
	eb2, err := b.Events.TryGet()
	require.NoError(t, err)
	col := prometheus.New(nil)
	col.AddPools(a.Stats)
	col.AddPools(b.Stats)
	reg := prom.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	v := values(t, reg)
	assert.Equal(t, 3.0, v["meltica_pool_in_use/events/*schema.CanonicalEvent"], "%v", v)
	a.Events.Put(ea)
	b.Events.Put(eb1)
	b.Events.Put(eb2)
}

// The same name given twice by mistake must not take the whole scrape down.
func TestAdvDuplicateNames(t *testing.T) {
	col := prometheus.New(nil)
	col.AddParser(schema.VenueKraken, "book", fixedParser{normalize.Stats{Messages: 1}})
	col.AddParser(schema.VenueKraken, "book", fixedParser{normalize.Stats{Messages: 2}})
	col.AddClient(schema.VenueKraken, "c", fixedClient{})
	col.AddClient(schema.VenueKraken, "c", fixedClient{})
	reg := prom.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	_, err := reg.Gather()
	require.NoError(t, err)
}
