package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A rotated recording given without its last parts (`replay
// rec-000001.jsonl`, a glob that missed some) replayed the parts given
// and said nothing: a session cut short that looked whole. The recorder
// names the next part after each, so Import refuses a last part whose
// next part is beside it and not given, naming that part; the whole
// recording, or a part moved away from the rest, is taken.
func TestS27ImportRefusesARecordingWithoutItsLastParts(t *testing.T) {
	files := recordS27Parts(t, filepath.Join(t.TempDir(), "r.jsonl.zst"), true)

	for _, given := range [][]string{files[:1], files[:len(files)-1]} {
		_, _, err := Import(given, "")
		require.Error(t, err, "%v", given)
		assert.Contains(t, err.Error(), filepath.Base(files[len(given)]), "the missing part is named")
	}
	out, cleanup, err := Import(files, "")
	require.NoError(t, err)
	cleanup()
	assert.Equal(t, files, out)

	// A part copied away from the rest stands alone.
	alone := filepath.Join(t.TempDir(), filepath.Base(files[0]))
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(alone, b, 0o666))
	_, cleanup, err = Import([]string{alone}, "")
	require.NoError(t, err)
	cleanup()
}
