package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// runBounded runs the CLI and fails the test, instead of hanging it, when
// the command does not return within a generous deadline.
func runBounded(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	type result struct {
		out, errOut string
		err         error
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	go func() {
		var stdout, stderr syncBuffer
		err := run(ctx, args, &stdout, &stderr)
		done <- result{stdout.String(), stderr.String(), err}
	}()
	select {
	case r := <-done:
		t.Logf("meltica %v\nstdout:\n%s\nstderr:\n%s", args, r.out, r.errOut)
		return r.out, r.errOut, r.err
	case <-time.After(60 * time.Second):
		cancel()
		r := <-done
		t.Fatalf("meltica %v did not return on its own (err after cancel: %v)\nstdout:\n%s\nstderr:\n%s", args, r.err, r.out, r.errOut)
		return "", "", nil
	}
}

func headerOnly(t *testing.T, sent bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "e.jsonl.zst")
	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueBinance, URL: "wss://stream.binance.com:9443/stream", Compress: true})
	require.NoError(t, err)
	if sent {
		rec.RecordSent(1, 1, []byte(`{"method":"SUBSCRIBE"}`))
	}
	require.NoError(t, rec.Close())
	return path
}

// A recording with no received frame replays to a summary of zero frames,
// over the socket and direct: it must not wait forever for frames that
// will never come.
func TestAdvReplayEmptyRecording(t *testing.T) {
	for _, sent := range []bool{false, true} {
		path := headerOnly(t, sent)
		for _, direct := range []bool{false, true} {
			args := []string{"replay", path}
			if direct {
				args = []string{"replay", "-direct", path}
			}
			out, _, err := runBounded(t, args...)
			require.NoError(t, err)
			assert.Contains(t, out, "(binance), 0 frames")
			assert.Contains(t, out, "  frames            0\n")
		}
	}
}

// Bad input on the command line: an error (exit status 1 in main), a
// message naming what is wrong, and nothing left running.
func TestAdvBadFlags(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.jsonl")
	require.NoError(t, os.WriteFile(garbage, []byte("\x00\x01garbage\n"), 0o600))
	truncated := filepath.Join(dir, "cut.jsonl.zst")
	full, err := os.ReadFile(shipped)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(truncated, full[:len(full)/2], 0o600))

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"replay", "-nope", shipped}, "flag provided but not defined"},
		{"speed zero", []string{"replay", "-paced", "-speed", "0", shipped}, "-speed"},
		{"speed negative", []string{"replay", "-paced", "-speed", "-2", shipped}, "-speed"},
		{"speed NaN", []string{"replay", "-paced", "-speed", "NaN", shipped}, "-speed"},
		{"speed Inf", []string{"serve", "-paced", "-speed", "+Inf", shipped}, "-speed"},
		{"depth negative", []string{"replay", "-depth", "-1", shipped}, "-depth"},
		{"unknown venue", []string{"replay", "-venue", "mtgox", shipped}, `unknown venue "mtgox"`},
		{"garbage file", []string{"replay", garbage}, "not a recording"},
		{"truncated file", []string{"replay", "-direct", truncated}, "not a recording"},
		{"truncated file served", []string{"replay", truncated}, "not a recording"},
		{"serve garbage", []string{"serve", garbage}, "not a recording"},
		{"serve nothing", []string{"serve"}, "name the recording"},
		{"record into a missing directory", []string{"record", "-symbols", "BTCUSDT", "-o", filepath.Join(dir, "no", "such", "r.jsonl")}, "no such file or directory"},
		{"record negative max-file-bytes", []string{"record", "-symbols", "BTCUSDT", "-o", filepath.Join(dir, "r.jsonl"), "-max-file-bytes", "-5"}, "-max-file-bytes"},
		{"tail no symbols", []string{"tail", "-venue", "binance"}, "-symbols"},
		{"tail negative n", []string{"tail", "-symbols", "BTCUSDT", "-n", "-3"}, "-n"},
		{"tail stray argument", []string{"tail", "-symbols", "BTCUSDT", "ETHUSDT"}, "ETHUSDT"},
		{"record stray argument", []string{"record", "-symbols", "BTCUSDT", "-o", filepath.Join(dir, "s.jsonl"), "extra"}, "extra"},
		{"duration negative", []string{"tail", "-symbols", "BTCUSDT", "-duration", "-1s"}, "-duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, err := runBounded(t, tc.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error()+errOut, tc.want)
		})
	}
	_, err = os.Stat(filepath.Join(dir, "s.jsonl"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "a refused record leaves no file behind")
}

// -h is not an error (main exits 0) and prints the flags.
func TestAdvHelp(t *testing.T) {
	for _, cmd := range []string{"tail", "record", "replay", "serve"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{cmd, "-h"}, &out, &out)
		require.ErrorIs(t, err, flag.ErrHelp)
		assert.Contains(t, out.String(), "Usage of "+cmd)
	}
}
