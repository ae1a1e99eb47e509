package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A venue that refuses the upgrade for good (401: wsclient stops at once,
// ErrPermanent) never connected either: tail and record say so, and record
// leaves no file, so that the run with the right credentials or URL may
// take the name. The header-only file stayed, and refused that run ("a
// recording is already there").
func TestS24rvPermanentRefusalIsNeverConnected(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	defer refusing.Close()
	url := "ws" + refusing.URL[len("http"):] + "/stream"
	_, _, err := runBounded(t, "tail", "-symbols", "BTCUSDT", "-url", url, "-duration", "5s")
	require.ErrorContains(t, err, "never connected", "tail")
	path := filepath.Join(t.TempDir(), "s.jsonl")
	_, _, err = runBounded(t, "record", "-symbols", "BTCUSDT", "-url", url, "-duration", "5s", "-o", path)
	require.ErrorContains(t, err, "never connected", "record")
	assert.ErrorContains(t, err, "401")
	_, statErr := os.Stat(path)
	assert.ErrorIs(t, statErr, os.ErrNotExist, "no file left")
}

// record checks every flag before it creates the file (its doc), -url
// too: a URL that is not ws:// or wss:// (or does not parse) is refused
// with no file made. wsclient refused it only once the recording's file
// was there, which then refused the run with the URL corrected.
func TestS24rvRecordChecksURLBeforeTheFile(t *testing.T) {
	for _, u := range []string{"notaurl", "http://127.0.0.1:1/stream", "ws://[::1", "ws:///stream"} {
		path := filepath.Join(t.TempDir(), "s.jsonl")
		_, _, err := runBounded(t, "record", "-symbols", "BTCUSDT", "-url", u, "-duration", "1s", "-o", path)
		require.ErrorContains(t, err, "-url", "url %q", u)
		_, statErr := os.Stat(path)
		assert.ErrorIs(t, statErr, os.ErrNotExist, "url %q: no file made", u)
	}
}
