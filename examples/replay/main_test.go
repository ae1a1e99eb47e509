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

// TestReplay runs the README's second command: the shipped Kraken session
// through the whole pipeline, every checksum verified.
func TestReplay(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-print", "3"}, &out))
	text := out.String()
	t.Log(text)
	assert.Contains(t, text, "recorded from wss://ws.kraken.com (kraken-v1), 4321 frames")
	assert.Regexp(t, `served on ws://127\.0\.0\.1:\d+ `, text)
	assert.Contains(t, text, "books             10 kept, 10 live at the end, 0 gap markers")
	assert.Contains(t, text, "checksums         4269 verified, 0 mismatched, 0 not checked")
	assert.Contains(t, text, "  XMR-USD    30.30000000 x 353.64000000 | 354.48000000 x 6.86050247")
	assert.Contains(t, text, "leak check: 0 outstanding")
}
