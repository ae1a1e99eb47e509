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

// TestLatencyBoth runs both implementations briefly and checks each saw
// every message of the measured window.
func TestLatencyBoth(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-rates", "2000", "-duration", "500ms", "-warmup", "200ms"}, &out))
	t.Log(out.String())
	assert.Regexp(t, `baseline\s+2000\s+\d+ .* 1000\s+1\n`, out.String(), "every message, on one connection")
	assert.Regexp(t, `meltica\s+2000\s+\d+ .* 1000\s+1\n`, out.String(), "every message, on one connection")
}

// TestShortSoak is the soak mode in small: it must find no growth.
func TestShortSoak(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-soak", "-rate", "5000", "-duration", "3s", "-sample", "250ms"}, &out)
	t.Log(out.String())
	require.NoError(t, err)
	assert.Contains(t, out.String(), "soak: ok")
	assert.Contains(t, out.String(), "1 connection(s)")
	assert.Contains(t, out.String(), "heap slope")
}

func TestSlope(t *testing.T) {
	assert.InDelta(t, 2.0, slope([]float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}), 1e-9)
	assert.Zero(t, slope([]float64{1, 1}, []float64{2, 3}))
}
