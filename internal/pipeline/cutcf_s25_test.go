package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
)

// A cryptofeed session cut mid-line (its recorder killed mid-write: every
// line of cryptofeed's ends in a newline) replays its whole lines and
// reports the cut, as a Meltica recording cut short does. The torn last
// frame was replayed as a whole one — a parse error, the cut invisible,
// and a clean exit.
func TestS25CutCryptofeedSession(t *testing.T) {
	src, err := os.ReadFile(sharedKraken)
	if err != nil {
		t.Skip("no ../shared/recordings: ", err)
	}
	path := filepath.Join(t.TempDir(), "KRAKEN.ws.50.0")
	require.NoError(t, os.WriteFile(path, src[:500000], 0o666)) // ends inside a frame
	for _, direct := range []bool{true, false} {
		res, err := Replay(context.Background(), ReplayConfig{Files: []string{path}, Depth: 1000, Direct: direct})
		require.ErrorIs(t, err, recorder.ErrCutShort, "direct %v", direct)
		assert.Zero(t, res.Summary.Parser.Errors, "the torn frame is not replayed (direct %v)", direct)
		assert.Equal(t, uint64(1063), res.Summary.Frames, "direct %v", direct)
	}
}
