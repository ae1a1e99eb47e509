package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/internal/cryptofeed"
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

// A recording of a venue that sends no book checksum (Coinbase Exchange's
// level2, from ../shared/recordings) replays as a success: books kept and
// live, "none: the venue sent none" — not "no venue checksum was
// verified" and exit status 1.
func TestReplayVenueWithoutChecksums(t *testing.T) {
	src := filepath.Join("..", "..", "..", "shared", "recordings", "COINBASE.ws.28.0.gz")
	if _, err := os.Stat(src); err != nil {
		t.Skip("../shared/recordings not present")
	}
	path := filepath.Join(t.TempDir(), "coinbase.jsonl.zst")
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = cryptofeed.Convert(src, f, "coinbase", true)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-file", path, "-print", "0"}, &out))
	text := out.String()
	assert.Contains(t, text, "checksums         none: the venue sent none")
	assert.Regexp(t, `books             (\d+) kept, (\d+) live`, text)
	assert.NotContains(t, text, "not live")
}
