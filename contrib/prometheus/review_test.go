package prometheus_test

// Adversarial review, third round (helper nat).

import (
	"context"
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/prometheus"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
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

// A running session is scraped by several goroutines at once, through
// AddSession (its connection, parser, book, pools and the session's own
// counters, none of which the collector could reach before): no race, no
// failed scrape; after Close the gauges say closed (up 0, the book not
// live, every pooled object back), and scraping still works.
func TestReviewSession(t *testing.T) {
	venue := venuesim.Start(&venuesim.Options{Rate: 400})
	defer venue.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := session.Start(ctx, session.Config{Endpoints: session.Endpoints{Stream: venue.CombinedURL(), REST: venue.RESTURL()},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"trade", "depth@100ms"}})
	require.NoError(t, err)
	require.NoError(t, s.WaitConnected(ctx))
	col := prometheus.New(nil)
	reg := prom.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	col.AddSession(schema.VenueBinance, "main", s)

	stopScraping := scrape(t, reg, 3)
	require.Eventually(t, func() bool {
		v := values(t, reg)
		return v["meltica_ws_up/main market 1/binance"] == 1 && v["meltica_parser_events_total/main market 1/binance"] > 0 &&
			v["meltica_book_live/BTC-USDT/binance"] == 1 && v["meltica_session_topics/main market 1/binance"] == 2
	}, 30*time.Second, 5*time.Millisecond, "%v", values(t, reg))
	require.NoError(t, s.Close(ctx))
	stopScraping()

	v := values(t, reg)
	assert.Equal(t, 0.0, v["meltica_ws_up/main market 1/binance"], "a closed session's connection is not up")
	assert.Equal(t, 0.0, v["meltica_book_live/BTC-USDT/binance"])
	assert.Positive(t, v["meltica_book_snapshots_total/BTC-USDT/binance"])
	assert.Positive(t, v["meltica_pool_gets_total/events/*schema.CanonicalEvent"])
	for k, x := range v {
		if strings.HasPrefix(k, "meltica_pool_in_use/") {
			assert.Zero(t, x, "%s: every object back after Close", k)
		}
	}
}
