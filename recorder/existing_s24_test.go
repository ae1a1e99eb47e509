package recorder_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// record writes frames "<tag>-1" … "<tag>-n" to a new recording at path.
func recordTagged(t *testing.T, path, tag string, n int, opts recorder.Options) []string {
	t.Helper()
	rec, err := recorder.New(path, &opts)
	require.NoError(t, err)
	for i := 1; i <= n; i++ {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i), ReceivedAt: int64(i), Data: []byte(tag + "-" + strings.Repeat("x", i%7))}))
	}
	require.NoError(t, rec.Close())
	return rec.Files()
}

// readTags reads a recording's frames' texts.
func readTags(t *testing.T, files ...string) []string {
	t.Helper()
	r, err := recorder.Open(files...)
	require.NoError(t, err)
	defer r.Close()
	var got []string
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		got = append(got, l.Text)
	}
	return got
}

// A recording is never written over: a second recorder (a second process,
// a command run twice) at the name of an existing recording, or of one of
// its parts, is refused at New with an error matching fs.ErrExist, and the
// earlier recording reads back whole. os.Create truncated it, and two
// writers at one name interleaved their lines in one file; a rotating
// recording over an earlier, longer one left that one's later parts behind
// to be replayed as its own.
func TestS24ExistingRecordingNotOverwritten(t *testing.T) {
	for _, rotating := range []bool{false, true} {
		t.Run(map[bool]string{false: "one file", true: "rotating"}[rotating], func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "session.jsonl")
			opts := recorder.Options{Venue: "binance"}
			if rotating {
				opts.MaxFileBytes = 300
			}
			first := recordTagged(t, path, "first", 40, opts)
			want := readTags(t, first...)
			require.Len(t, want, 40)

			_, err := recorder.New(path, &opts)
			require.Error(t, err, "a second recorder at the same name")
			assert.ErrorIs(t, err, fs.ErrExist)
			if rotating {
				// Only a later part left at the name: refused too.
				require.NoError(t, os.Remove(first[0]))
				_, err = recorder.New(path, &opts)
				assert.ErrorIs(t, err, fs.ErrExist, "part %s of an earlier recording", first[1])
			} else {
				assert.Equal(t, want, readTags(t, first...), "the earlier recording is whole")
			}
		})
	}
}

// Two recorders writing at once in one directory under their own names
// keep their own frames, each file whole.
func TestS24TwoWritersOneDirectory(t *testing.T) {
	dir := t.TempDir()
	done := make(chan []string, 2)
	for _, tag := range []string{"a", "b"} {
		go func() {
			rec, err := recorder.New(filepath.Join(dir, tag+".jsonl"), &recorder.Options{Venue: "binance", MaxFileBytes: 500})
			if err != nil {
				done <- nil
				return
			}
			for i := 1; i <= 200; i++ {
				rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i), Data: []byte(tag)})
			}
			if rec.Close() != nil {
				done <- nil
				return
			}
			done <- rec.Files()
		}()
	}
	for range 2 {
		files := <-done
		require.NotNil(t, files)
		got := readTags(t, files...)
		require.Len(t, got, 200)
		for _, s := range got {
			require.Equal(t, got[0], s, "one recorder's frames only")
		}
	}
}

// After a line longer than MaxLine (a foreign or damaged file), a reader
// that goes on past the error finds the next line whole: the rest of the
// long line is skipped, not read as lines of its own.
func TestS24ReaderResyncsAfterHugeLine(t *testing.T) {
	if raceEnabled {
		t.Skip("reads MaxLine bytes (runs without -race: CI's coverage step, with -short)")
	}
	var buf bytes.Buffer
	w, err := recorder.NewWriter(&buf, false)
	require.NoError(t, err)
	require.NoError(t, w.WriteHeader(recorder.Line{Venue: "binance"}))
	require.NoError(t, w.Flush())
	header := len(buf.Bytes())
	require.NoError(t, w.Write(&recorder.Line{Time: 2, Conn: 1, Seq: 2, Text: "after"}))
	require.NoError(t, w.Close())
	// The long line is streamed, not built: a 64 MiB buffer grown by
	// doubling cost as much as the read under test.
	long := io.MultiReader(strings.NewReader(`{"t":1,"text":"`),
		io.LimitReader(repeatByte('a'), recorder.MaxLine+(300<<10)), strings.NewReader("\"}\n"))

	r, err := recorder.NewReader(io.MultiReader(bytes.NewReader(buf.Bytes()[:header]), long, bytes.NewReader(buf.Bytes()[header:])))
	require.NoError(t, err)
	defer r.Close()
	_, err = r.Next()
	require.ErrorIs(t, err, recorder.ErrFormat)
	assert.Contains(t, err.Error(), "longer than")
	l, err := r.Next()
	require.NoError(t, err, "the line after the long one")
	assert.Equal(t, "after", l.Text)
	_, err = r.Next()
	assert.True(t, errors.Is(err, io.EOF), "%v", err)
}

// repeatByte reads as an endless run of one byte.
type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// Only the parts of this recording's name count: a rotating recording
// beside other files (another recording's parts, a file named by digits
// alone) starts.
func TestS24OtherFilesDoNotBlockRotation(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"123456.jsonl", "other-000001.jsonl", "session.jsonl", "session-000001.txt", "session-x00001.jsonl"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("x\n"), 0o600))
	}
	rec, err := recorder.New(filepath.Join(dir, "session.jsonl"), &recorder.Options{MaxFileBytes: 1000})
	require.NoError(t, err)
	require.NoError(t, rec.Close())
}
