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

// TestResilience injects every fault and checks the example saw each one
// recovered, by the mechanism meant for it.
func TestResilience(t *testing.T) {
	var out bytes.Buffer
	// A generous wait for each recovery: a deadline for a busy machine,
	// not a measurement.
	err := run(context.Background(), []string{"-wait", "30s"}, &out)
	text := out.String()
	t.Log(text) // also when run failed: the log says which fault and why
	require.NoError(t, err)
	for _, want := range []string{
		"disconnected peer_closed",                     // close
		"disconnected read_error",                      // reset
		"disconnected idle",                            // stall
		"disconnected pong_timeout",                    // no pong
		"survived: still connection",                   // garbage
		"oversized message dropped and reported",       // oversized
		"gap marker: BTC-USDT book_update, update ids", // the depth gap, named
		"missing (venue); resync BTC-USDT",
		"connected    rotation", // server shutdown: replaced before the cut
		"ids contiguous",
		"9 of 9 faults recovered",
		"leak check: 0 outstanding",
	} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, text, "conn 0", "connections count from 1")
	assert.NotContains(t, text, "NOT RECOVERED")
}
