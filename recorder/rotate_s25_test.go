package recorder_test

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

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
	require.Eventually(t, func() bool { return rec.Err() != nil }, 30*time.Second, time.Millisecond, "Err tells before Close")
	require.ErrorIs(t, rec.Err(), recorder.ErrPartTaken)
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

// Files of other tools say what they are not: a gzip file (tardis.dev's
// and many archives' .gz) was "line 1: cut short: unexpected EOF", as if
// a recording had been cut, and a tardis-style line (a timestamp, then
// the venue's message) "json: cannot unmarshal JSON number into Go
// recorder.Line".
func TestS25ForeignFilesNamed(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3}, "gzip-compressed"},
		{"tardis", []byte(`2019-06-01T00:00:00.1234567Z {"stream":"btcusdt@trade","data":{}}` + "\n"), "no meltica.recording header"},
		{"csv", []byte("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"), "no meltica.recording header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			require.NoError(t, os.WriteFile(path, tc.data, 0o666))
			_, err := recorder.Open(path)
			require.ErrorIs(t, err, recorder.ErrFormat)
			assert.NotErrorIs(t, err, recorder.ErrCutShort)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// The parts of a rotated recording are read in their order, from one
// recording: a part missing, parts out of order, or a part of another
// recording (another venue or URL) is an ErrFormat naming both, not a
// replay that runs the streams backwards or across a hole — a book then
// goes wrong with no word of why.
func TestS25PartsInOrder(t *testing.T) {
	dir := t.TempDir()
	parts := recordTagged(t, filepath.Join(dir, "a.jsonl"), "a", 40, recorder.Options{MaxFileBytes: 400, Venue: "binance", URL: "wss://x/a"})
	require.Greater(t, len(parts), 3)
	other := recordTagged(t, filepath.Join(dir, "b.jsonl"), "b", 40, recorder.Options{MaxFileBytes: 400, Venue: "binance", URL: "wss://x/b"})
	readErr := func(files ...string) error {
		r, err := recorder.Open(files...)
		if err != nil {
			return err
		}
		defer r.Close()
		for {
			if _, err := r.Next(); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	}
	require.NoError(t, readErr(parts...))
	require.NoError(t, readErr(parts[1:]...), "a recording's later parts alone, in order")
	for name, files := range map[string][]string{
		"reversed":    {parts[1], parts[0]},
		"one missing": {parts[0], parts[2]},
		"another's":   {parts[0], other[1]},
		"repeated":    {parts[0], parts[0]},
	} {
		err := readErr(files...)
		require.ErrorIs(t, err, recorder.ErrFormat, name)
		assert.Contains(t, err.Error(), "part", name)
	}
}
