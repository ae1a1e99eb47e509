package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lockedBuffer is a log sink read by the test while the pipeline's
// goroutines still write to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

// value returns the value of the series that matches the regexp's start
// (name and labels), or -1.
func value(text, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + series + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// The example's /metrics, scraped over HTTP while the pipeline runs: every
// family is there, with the values the pipeline's own counters have.
func TestMetricsScraped(t *testing.T) {
	var logs lockedBuffer
	a, err := start(context.Background(), "127.0.0.1:0", 1000, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	defer func() { require.NoError(t, a.Close()) }()

	var text string
	require.Eventually(t, func() bool {
		text = scrape(t, a.URL)
		return value(text, `meltica_parser_events_total\{parser="market",venue="binance"\}`) >= 50 &&
			value(text, `meltica_book_live\{symbol="BTC-USDT",venue="binance"\}`) == 1
	}, 30*time.Second, 10*time.Millisecond, "pipeline never got going")
	t.Log(text)

	assert.Equal(t, 1.0, value(text, `meltica_ws_up\{connection="market",venue="binance"\}`))
	assert.Positive(t, value(text, `meltica_ws_messages_total\{connection="market",venue="binance"\}`))
	assert.Zero(t, value(text, `meltica_ws_reconnects_total\{connection="market",reason="read_error",venue="binance"\}`))
	assert.Zero(t, value(text, `meltica_parser_errors_total\{parser="market",venue="binance"\}`))
	assert.Positive(t, value(text, `meltica_pool_gets_total\{pool="[^"]*",type="\*schema.CanonicalEvent"\}`))
	assert.Positive(t, value(text, `meltica_book_snapshots_total\{symbol="BTC-USDT",venue="binance"\}`))
	assert.GreaterOrEqual(t, value(text, `meltica_book_fetches_total\{symbol="BTC-USDT",venue="binance"\}`), 1.0)
	assert.Zero(t, value(text, `meltica_book_checksum_errors_total\{symbol="BTC-USDT",venue="binance"\}`))
	assert.Positive(t, value(text, `meltica_subscription_delivered_total\{subscription="all"\}`))
	assert.GreaterOrEqual(t, value(text, `meltica_subscription_worst_lag_seconds\{subscription="all"\}`), 0.0)
	assert.Contains(t, text, "# TYPE meltica_parser_messages_total counter")
	assert.Contains(t, text, "# TYPE meltica_pool_in_use gauge")
	assert.Contains(t, logs.String(), `msg="connection state" venue=binance connection=1 state=connected`)
}
