package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// A venue that cannot be reached (nothing listens on the port) or that
// refuses the WebSocket upgrade: tail and record that never connected end
// with an error naming the cause (a non-zero exit), not a clean summary of
// zero frames that a script would take for a quiet market.
func TestS24NeverConnectedIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedURL := "ws://" + ln.Addr().String() + "/ws"
	require.NoError(t, ln.Close())
	refusing := httptest.NewServer(http.NotFoundHandler())
	defer refusing.Close()
	for _, tc := range []struct{ name, url string }{
		{"nothing listens", closedURL},
		{"upgrade refused", "ws" + refusing.URL[len("http"):] + "/ws"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, cmd := range [][]string{
				{"tail", "-symbols", "BTCUSDT", "-url", tc.url, "-duration", "1s"},
				{"record", "-symbols", "BTCUSDT", "-url", tc.url, "-duration", "1s", "-o", filepath.Join(t.TempDir(), "r.jsonl")},
			} {
				_, _, err := runBounded(t, cmd...)
				require.Error(t, err, "%s never connected", cmd[0])
				assert.Contains(t, err.Error(), "never connected")
			}
		})
	}
}

// record run twice with one -o: the second is refused with a word on
// what to do, and the first recording is untouched (it was truncated).
func TestS24RecordRefusesExistingFile(t *testing.T) {
	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 500})
	defer venue.Close()
	path := filepath.Join(t.TempDir(), "s.jsonl.zst")
	args := []string{"record", "-url", venue.CombinedURL(), "-symbols", "BTCUSDT", "-channel", "bookTicker", "-n", "20", "-o", path}
	_, _, err := runBounded(t, args...)
	require.NoError(t, err)
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	_, _, err = runBounded(t, args...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the first recording is untouched")
}

// Every command that runs the pipeline ends on the leak check, as the
// examples do: what the pools handed out came back once it closed.
func TestS24CommandsEndOnLeakCheck(t *testing.T) {
	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 500})
	defer venue.Close()
	path := filepath.Join(t.TempDir(), "s.jsonl")
	_, errOut, err := runBounded(t, "tail", "-url", venue.CombinedURL(), "-symbols", "BTCUSDT", "-n", "5")
	require.NoError(t, err)
	assert.Contains(t, errOut, "leak check: 0 outstanding", "tail")
	_, errOut, err = runBounded(t, "record", "-url", venue.CombinedURL(), "-symbols", "BTCUSDT", "-n", "20", "-o", path)
	require.NoError(t, err)
	assert.Contains(t, errOut, "leak check: 0 outstanding", "record")
	out, _, err := runBounded(t, "replay", path)
	require.NoError(t, err)
	assert.Contains(t, out, "leak check: 0 outstanding", "replay")
}

// A record that never connected leaves no file behind: the name is free
// for the run with the right URL (a recording is never written over, so
// an empty one left there would refuse it).
func TestS24NeverConnectedRecordLeavesNoFile(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedURL := "ws://" + ln.Addr().String() + "/stream"
	require.NoError(t, ln.Close())
	path := filepath.Join(t.TempDir(), "s.jsonl")
	_, _, err = runBounded(t, "record", "-symbols", "BTCUSDT", "-url", closedURL, "-duration", "500ms", "-o", path)
	require.ErrorContains(t, err, "never connected")
	_, statErr := os.Stat(path)
	assert.ErrorIs(t, statErr, os.ErrNotExist, "no file left")

	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 500})
	defer venue.Close()
	_, _, err = runBounded(t, "record", "-symbols", "BTCUSDT", "-url", venue.CombinedURL(), "-n", "5", "-o", path)
	require.NoError(t, err, "the name is free")
}
