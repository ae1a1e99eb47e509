package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sharedRecordings = "../../../shared/recordings"

// ../shared/recordings holds sessions in cryptofeed's sample_data format
// (its README: "use it to test and demonstrate the pipeline on what the
// venues really sent"). replay takes them as they are, the venue from the
// recorded URL, as it takes Meltica's own recordings: the Kraken session
// verifies every checksum, as the shipped converted copy does.
func TestS24ReplayCryptofeedSession(t *testing.T) {
	path := filepath.Join(sharedRecordings, "KRAKEN.ws.50.0")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		t.Skip("../shared/recordings not present")
	}
	out, _, err := runBounded(t, "replay", "-depth", "1000", path)
	require.NoError(t, err)
	assert.Contains(t, out, "(kraken-v1)")
	assert.Contains(t, out, "checksums         4269 verified, 0 mismatched, 0 not checked")
	assert.Contains(t, out, "leak check: 0 outstanding")
}

// A cryptofeed session of a venue the URL does not name is replayed with
// -venue, and refused without it by a message that says so.
func TestS24ReplayCryptofeedNeedsVenue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "SOME.ws.1.0")
	require.NoError(t, os.WriteFile(path, []byte("wss://feed.example <-> 1.0\n1.5: {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1,\"s\":\"BTCUSDT\",\"t\":1,\"p\":\"1.0\",\"q\":\"1.0\",\"T\":1,\"m\":true,\"M\":true}}\n"), 0o600))
	_, _, err := runBounded(t, "replay", path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-venue")
	out, _, err := runBounded(t, "replay", "-venue", "binance", path)
	require.NoError(t, err)
	assert.Contains(t, out, "1 frames")
	assert.Contains(t, out, "trade 1")
}

// A file of neither format is the recorder's typed error, as before.
func TestS24ReplayNeitherFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.md")
	require.NoError(t, os.WriteFile(path, []byte("# Real venue recordings\n\nRaw sessions.\n"), 0o600))
	_, _, err := runBounded(t, "replay", path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a recording")
}

// serve takes a cryptofeed session as replay does: the shared Kraken
// session served for tail, as the converted shipped copy is.
func TestS24ServeCryptofeedSession(t *testing.T) {
	path := filepath.Join(sharedRecordings, "KRAKEN.ws.50.0")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		t.Skip("../shared/recordings not present")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", path}, &out, &out) }()
	var url string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`serving 4321 frames of kraken \(recorded from wss://ws.kraken.com\) on (ws://\S+) until interrupted`).FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil || strings.Contains(out.String(), "meltica") || len(done) > 0
	}, 30*time.Second, time.Millisecond)
	require.NotEmpty(t, url, "serving: %s", out.String())
	tailOut, _, err := runCmd(t, "tail", "-venue", "kraken-v1", "-url", url, "-symbols", "XMR/USD", "-channel", "book-1000", "-n", "20")
	require.NoError(t, err)
	assert.Contains(t, tailOut, "kraken XMR-USD   book_snapshot")
	cancel()
	require.NoError(t, <-done)
}
