package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A recording that cannot be opened (no such file, not a recording) is
// the error alone: the example printed "recorded from  (), 0 frames",
// "served on  -> wsclient …" and a summary of nothing first, a replay that
// never ran reported as one that ran empty.
func TestS24rvUnopenableRecordingIsTheErrorAlone(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-file", filepath.Join(t.TempDir(), "missing.jsonl")}, &out)
	require.Error(t, err)
	assert.NotContains(t, out.String(), "summary")
	assert.NotContains(t, out.String(), "recorded from")
}
