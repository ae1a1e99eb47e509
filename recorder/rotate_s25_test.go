package recorder_test

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// A rotation whose next part's name is already taken (another recorder
// at the same path, a file copied there) ends the recording once, with
// ErrPartTaken (matching fs.ErrExist too): the name will not free itself,
// so no later frame tries it again. It was retried for every frame that
// followed, one failed create(2) each, forever; writing to the name after
// it instead would interleave two recordings' parts.
func TestS25RotationIntoTakenName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.jsonl")
	var creates atomic.Int32
	rec, err := recorder.New(path, &recorder.Options{
		MaxFileBytes: 1,
		Create: func(name string) (io.WriteCloser, error) {
			creates.Add(1)
			return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		},
	})
	require.NoError(t, err)
	foreign := filepath.Join(dir, "s-000002.jsonl")
	require.NoError(t, os.WriteFile(foreign, []byte("someone else's\n"), 0o666))
	for i := range 50 {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: 1, Data: []byte("x")}))
	}
	err = rec.Close()
	require.ErrorIs(t, err, recorder.ErrPartTaken)
	require.ErrorIs(t, err, fs.ErrExist)
	assert.Contains(t, err.Error(), foreign)
	assert.Equal(t, int32(2), creates.Load(), "the taken name tried once")
	st := rec.Stats()
	assert.Equal(t, uint64(1), st.Written)
	assert.Equal(t, uint64(49), st.WriteErrors, "every later frame lost, and counted")
	assert.Equal(t, []string{filepath.Join(dir, "s-000001.jsonl")}, rec.Files())
	b, err := os.ReadFile(foreign)
	require.NoError(t, err)
	assert.Equal(t, "someone else's\n", string(b), "the other file untouched")
	assert.Equal(t, []string{"x"}, readTags(t, rec.Files()...))
}

// A file cut mid-line, or mid zstd frame, is ErrCutShort (the end a
// recorder killed mid-write leaves); a whole line that does not decode is
// not, though its JSON error is an unexpected EOF too ("{" then a
// newline): replays go on past the first, and must stop at the second.
func TestS25CutShortIsOnlyACut(t *testing.T) {
	dir := t.TempDir()
	next := func(path string) error {
		t.Helper()
		r, err := recorder.Open(path)
		require.NoError(t, err)
		defer r.Close()
		for {
			l, err := r.Next()
			if err != nil {
				return err
			}
			require.NotNil(t, l)
		}
	}
	const header = `{"format":"meltica.recording","version":1,"venue":"kraken","t":0}` + "\n"
	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(header+"{\n"), 0o666))
	err := next(bad)
	require.ErrorIs(t, err, recorder.ErrFormat)
	assert.NotErrorIs(t, err, recorder.ErrCutShort, "a whole line, not a cut")
	torn := filepath.Join(dir, "torn.jsonl")
	require.NoError(t, os.WriteFile(torn, []byte(header+`{"t":1,"c`), 0o666))
	err = next(torn)
	require.ErrorIs(t, err, recorder.ErrCutShort)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}
