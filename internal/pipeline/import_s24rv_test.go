package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
)

// A file with nothing of either format — empty (a recorder killed before
// its first flush leaves one), or blank lines only — is the recorder's
// ErrFormat ("empty"), as before cryptofeed sessions were taken: it was
// called "a cryptofeed session without WebSocket frames (0 REST answers)",
// which sent its owner looking for the wrong tool.
func TestS24rvImportEmptyIsNoCryptofeedSession(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty.jsonl": "", "blank.jsonl": "\n\n"} {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		_, _, err := Import([]string{path}, "")
		require.ErrorIs(t, err, recorder.ErrFormat, name)
		assert.NotContains(t, err.Error(), "cryptofeed", name)
	}
	// A cryptofeed session of REST answers only is still named so.
	rest := filepath.Join(dir, "BINANCE.http.0.0")
	require.NoError(t, os.WriteFile(rest, []byte("https://api.binance.com/api/v3/depth?symbol=BTCUSDT -> 1618678132.8253062: {}\n"), 0o600))
	_, _, err := Import([]string{rest}, "")
	assert.ErrorContains(t, err, "without WebSocket frames")
}
