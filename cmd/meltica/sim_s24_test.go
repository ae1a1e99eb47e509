package main

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The doc says tail and record take -url "to connect elsewhere than the
// venue's public endpoint (a venuesim, …)": sim starts one from the
// command line, prints its URLs, and serves until interrupted; tail reads
// it as it reads Binance.
func TestS24SimThenTail(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"sim", "-symbols", "BTCUSDT,ETHUSDT", "-rate", "500"}, &out, &out) }()
	var url string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`market streams\s+(ws://\S+/stream)`).FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil || len(done) > 0
	}, 30*time.Second, time.Millisecond)
	require.NotEmpty(t, url, "sim printed its URL: %s", out.String())
	assert.Regexp(t, `REST\s+http://\S+`, out.String())
	assert.Regexp(t, `WS-API\s+ws://\S+/ws-api/v3`, out.String())
	tailOut, _, err := runCmd(t, "tail", "-url", url, "-symbols", "ETHUSDT", "-n", "5")
	require.NoError(t, err)
	assert.Regexp(t, `binance ETH-USDT +trade`, tailOut)
	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, out.String(), "simulated venue closed")
	_, _, err = runCmd(t, "sim", "-rate", "-1")
	assert.Error(t, err, "a negative rate is refused")
	_, _, err = runCmd(t, "sim", "extra")
	assert.Error(t, err, "a stray argument is refused")
}
