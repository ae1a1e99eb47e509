//go:build linux

package main

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/venuesim"
)

// A disk that fills while `record` runs (here the file size limit,
// RLIMIT_FSIZE, which makes a write past it fail with EFBIG as a full
// disk fails with ENOSPC; Go ignores SIGXFSZ): the recording ends
// (recorder.ErrWriteFailed) and record stops at once with that error,
// exit status 1, rather than read on for its -n frames recording nothing.
func TestS27RecordStopsWhenTheDiskFails(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 5000, Symbols: []string{"BTCUSDT"}})
	defer v.Close()
	out := filepath.Join(t.TempDir(), "full.jsonl")

	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old))
	lim := old
	lim.Cur = 64 << 10
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim))
	stdout, _, err := runCmd(t, "record", "-url", v.StreamURL(), "-symbols", "BTCUSDT", "-n", "100000000", "-o", out)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old))

	require.ErrorIs(t, err, recorder.ErrWriteFailed)
	require.True(t, errors.Is(err, syscall.EFBIG), "%v", err)
	assert.Contains(t, stdout, "recorded ")
}
