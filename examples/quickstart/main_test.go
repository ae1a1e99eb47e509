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
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQuickstart runs the example offline for a short while and checks the
// lines a new user reads: events flowed and nothing leaked.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-duration", "700ms", "-rate", "1000", "-print", "100"}, &out))
	text := out.String()
	t.Log(text)
	assert.Contains(t, text, "connection 1: connected")
	m := regexp.MustCompile(`delivered\s+(\d+) trades, (\d+) best bid/offer`).FindStringSubmatch(text)
	require.NotNil(t, m, "no delivery summary")
	trades, _ := strconv.Atoi(m[1])
	bbos, _ := strconv.Atoi(m[2])
	assert.Positive(t, trades)
	assert.Positive(t, bbos)
	assert.Regexp(t, `parse errors 0\n`, text)
	assert.Contains(t, text, "leak check: 0 outstanding")
	// Any symbol's trade, either side ("buy" is padded to the width of
	// "sell"): on a loaded machine the few trades printed may all be of one
	// symbol and side.
	assert.Regexp(t, `(BTC|ETH)-USDT trade  (buy |sell) \d+\.\d{8} @ \d+\.\d{8}`, text, "trades print with the venue's digits")
}
