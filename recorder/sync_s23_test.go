package recorder

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Review s23: Close's claim that a recording it reported written survives
// a crash of the machine needs the files' directory entries on disk too:
// a file created and fsynced may still be missing after a power cut until
// its directory is synced (fsync(2): "Calling fsync() does not necessarily
// ensure that the entry in the directory containing the file has also
// reached disk"). Each file the recorder creates itself (os.Create) has
// its directory synced once the file is.
func TestS23DirectorySynced(t *testing.T) {
	var mu sync.Mutex
	var synced []string
	old := syncDir
	syncDir = func(dir string) error {
		mu.Lock()
		synced = append(synced, dir)
		mu.Unlock()
		return old(dir)
	}
	defer func() { syncDir = old }()
	dir := t.TempDir()
	rec, err := New(filepath.Join(dir, "s.jsonl"), &Options{MaxFileBytes: 300})
	require.NoError(t, err)
	for i := range 20 {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: int64(i + 1), Data: []byte(`{"e":"trade","p":"1.0"}`)}))
	}
	require.NoError(t, rec.Close())
	files := rec.Files()
	require.Greater(t, len(files), 1, "the recording rotated")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, synced, len(files), "the directory synced after each file")
	for _, d := range synced {
		assert.Equal(t, dir, d)
	}
}
