package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOrderflow(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-wait", "30s"}, &out)) // a deadline for a busy machine
	text := out.String()
	t.Log(text)
	assert.Regexp(t, `demo-mkt-1 buy  market trade     -> partially_filled filled 0\.01000000 of 0\.02000000`, text)
	assert.Regexp(t, `demo-mkt-1 buy  market trade     -> filled           filled 0\.02000000 of 0\.02000000`, text)
	assert.Regexp(t, `demo-lmt-1 buy  limit  new       -> new`, text)
	assert.Regexp(t, `demo-lmt-1 buy  limit  canceled  -> canceled`, text)
	assert.Regexp(t, `venue answer request \d+: refused, code -2010 Account has insufficient balance for requested action\.`, text)
	assert.Regexp(t, `venue answer request \d+: order \d+ new`, text)
	assert.Regexp(t, `venue answer request \d+: order \d+ filled`, text, "a market order's answer tells it filled, as Binance's FULL answer does")
	assert.Contains(t, text, "reason: INSUFFICIENT_BALANCES")
	assert.Contains(t, text, "4 requests sent, 6 execution reports received")
	assert.Regexp(t, `execs\s+6\s+6\s`, text, "the reports came as pooled ExecReports, all returned")
	assert.Contains(t, text, "leak check: 0 outstanding")
}

func TestOrderflowLiveEndpoint(t *testing.T) {
	err := run(context.Background(), []string{"-live", "-endpoint", "mainnet"}, &bytes.Buffer{})
	assert.ErrorContains(t, err, "want testnet or production")
}

func TestOrderflowLiveNeedsKeys(t *testing.T) {
	t.Setenv("BINANCE_API_KEY", "")
	err := run(context.Background(), []string{"-live"}, &bytes.Buffer{})
	assert.ErrorContains(t, err, "BINANCE_API_KEY")
}
