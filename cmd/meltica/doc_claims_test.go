package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/venuesim"
)

// record's -n: "stop after this many frames". The recording holds exactly
// that many, even from a venue that sends faster than the client closes.
func TestDocRecordStopsAfterNFrames(t *testing.T) {
	srv, err := venuesim.StartReplay([]string{shipped}, nil) // as fast as the socket takes them
	require.NoError(t, err)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "rec.jsonl.zst")
	out, _, err := runCmd(t, "record", "-venue", "kraken-v1", "-url", srv.URL(), "-symbols", "XMR/USD", "-channel", "book-1000", "-o", path, "-n", "300")
	require.NoError(t, err)
	assert.Contains(t, out, "recorded 300 frames")

	r, err := recorder.Open(path)
	require.NoError(t, err)
	defer r.Close()
	lines := 0
	for {
		l, err := r.Next()
		if err != nil {
			break
		}
		if !l.Out {
			lines++
		}
	}
	assert.Equal(t, 300, lines, "frames received in the recording")
}

// tail's -n: "stop after this many market events (control events not
// counted)".
func TestDocTailStopsAfterNEvents(t *testing.T) {
	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 5000})
	defer venue.Close()
	out, _, err := runCmd(t, "tail", "-venue", "binance", "-url", venue.CombinedURL(), "-symbols", "BTCUSDT", "-channel", "trade", "-n", "5")
	require.NoError(t, err)
	trades := regexp.MustCompile(`(?m)^.*binance BTC-USDT +trade .*$`).FindAllString(out, -1)
	assert.Len(t, trades, 5, strings.Join(trades, "\n"))
}
