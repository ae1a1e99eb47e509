package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
)

// nats-server's access-time ticker is its process-wide singleton
// (embedded.AccessTimeTicker), not a goroutine of ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(embedded.AccessTimeTicker))
}

// TestDistributed runs the example offline for a short while: both
// consumers received market data and the execution reports of both orders
// through NATS, and nothing leaked.
func TestDistributed(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-duration", "700ms", "-rate", "1000"}, &out))
	text := out.String()
	t.Log(text)
	a := regexp.MustCompile(`strategy-a received: .*trade=(\d+)`).FindStringSubmatch(text)
	require.NotNil(t, a, "no summary for strategy-a")
	b := regexp.MustCompile(`strategy-b received: .*trade=(\d+)`).FindStringSubmatch(text)
	require.NotNil(t, b, "no summary for strategy-b")
	for _, m := range [][]string{a, b} {
		n, _ := strconv.Atoi(m[1])
		assert.Positive(t, n)
	}
	assert.Regexp(t, `strategy-a received: .*exec_report=3`, text, "BTC order: new, two fills")
	assert.Regexp(t, `strategy-b received: .*exec_report=6`, text, "both orders")
	assert.NotRegexp(t, `strategy-b received: .*(bbo|book_update)=`, text, "strategy-b subscribed to trades only")
	assert.Contains(t, text, "nats states: nats connected")
	assert.Regexp(t, `ETH-USDT demo-eth-1 trade filled filled 0\.50000000 of 0\.50000000`, text, "digits kept across the bridge")
	assert.Contains(t, text, "leak check: 0 outstanding")
}
