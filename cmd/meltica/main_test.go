package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/venuesim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const shipped = "../../testdata/recordings/kraken-v1-book-2021-04-17.jsonl.zst"

func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	t.Logf("meltica %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), stdout.String(), stderr.String())
	return stdout.String(), stderr.String(), err
}

func TestTailSimulatedVenue(t *testing.T) {
	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1000})
	defer venue.Close()
	out, errOut, err := runCmd(t, "tail", "-venue", "binance", "-url", venue.CombinedURL(), "-symbols", "BTCUSDT", "-channel", "trade", "-n", "5", "-v")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(regexp.MustCompile(`(?m)binance BTC-USDT +trade +(buy|sell) \d+\.\d{8} @ \d+\.\d{8}$`).FindAllString(out, -1)), 5)
	assert.Contains(t, errOut, "connection 1: connected")
	assert.Contains(t, errOut, "parse errors")
}

// tail on Kraken v1, the venue a replay server plays from the shipped
// session: books kept, best bid/offers printed.
func TestTailReplayedKraken(t *testing.T) {
	srv, err := venuesim.StartReplay([]string{shipped}, nil)
	require.NoError(t, err)
	defer srv.Close()
	out, _, err := runCmd(t, "tail", "-venue", "kraken-v1", "-url", srv.URL(), "-symbols", "XMR/USD", "-channel", "book-1000", "-n", "50")
	require.NoError(t, err)
	assert.Regexp(t, `kraken +[A-Z]+-[A-Z]+ +book_update +\d+ bids \d+ asks checksum \d+`, out)
}

func TestRecordThenReplay(t *testing.T) {
	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: 2000})
	defer venue.Close()
	path := filepath.Join(t.TempDir(), "sim.jsonl.zst")
	out, errOut, err := runCmd(t, "record", "-venue", "binance", "-url", venue.CombinedURL(), "-symbols", "BTCUSDT,ETHUSDT",
		"-channel", "bookTicker", "-o", path, "-n", "200")
	require.NoError(t, err)
	m := regexp.MustCompile(`recorded (\d+) frames \(\d+ bytes, 0 dropped\) to (\S+)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	n, _ := strconv.Atoi(m[1])
	assert.GreaterOrEqual(t, n, 200)
	assert.Equal(t, path, m[2])
	assert.Contains(t, errOut, "recording")

	out, _, err = runCmd(t, "replay", "-events", path)
	require.NoError(t, err)
	assert.Contains(t, out, "recorded from "+venue.CombinedURL()+" (binance), "+m[1]+" frames, served on ws://127.0.0.1:")
	assert.Contains(t, out, "  frames            "+m[1]+"\n")
	assert.Regexp(t, `binance BTC-USDT +bbo +\d+\.\d{8} x \d+\.\d{8} \| \d+\.\d{8} x \d+\.\d{8}`, out)
	assert.Contains(t, out, "0 parse errors")
}

func TestReplayShippedSession(t *testing.T) {
	out, errOut, err := runCmd(t, "replay", "-depth", "1000", shipped)
	require.NoError(t, err)
	assert.Contains(t, out, "(kraken-v1), 4321 frames, served on ws://")
	assert.Contains(t, out, "checksums         4269 verified, 0 mismatched, 0 not checked")
	assert.Contains(t, errOut, "replay 4321/4321 frames 100%")

	out, _, err = runCmd(t, "replay", "-direct", shipped)
	require.NoError(t, err)
	assert.Contains(t, out, "checksums         4269 verified, 0 mismatched, 0 not checked")
}

func TestUsageErrors(t *testing.T) {
	_, _, err := runCmd(t)
	require.Error(t, err)
	_, _, err = runCmd(t, "nope")
	require.ErrorContains(t, err, `unknown command "nope"`)
	_, _, err = runCmd(t, "tail", "-venue", "nowhere", "-symbols", "X")
	require.ErrorContains(t, err, `unknown venue "nowhere"`)
	_, _, err = runCmd(t, "record", "-symbols", "BTCUSDT")
	require.ErrorContains(t, err, "-o is required")
	_, _, err = runCmd(t, "replay")
	require.Error(t, err)
	_, _, err = runCmd(t, "replay", "missing.jsonl")
	require.Error(t, err)
}

// serve plays the shipped session to any client: here tail, which keeps
// Kraken's books off but prints the venue's events.
func TestServeThenTail(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", shipped}, &out, &out) }()
	var url string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`serving 4321 frames of kraken \(recorded from wss://ws.kraken.com\) on (ws://\S+) until interrupted`).FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 30*time.Second, time.Millisecond)
	tailOut, _, err := runCmd(t, "tail", "-venue", "kraken-v1", "-url", url, "-symbols", "XMR/USD", "-channel", "book-1000", "-n", "20")
	require.NoError(t, err)
	assert.Contains(t, tailOut, "kraken XMR-USD   book_snapshot")
	cancel()
	require.NoError(t, <-done)
	assert.Regexp(t, `served 1 connections, \d+ frames`, out.String())
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
