package meltica_test

import (
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

// The recorder's misuse and named errors: New in a directory that does
// not exist fails; New over an existing recording is refused with an
// error matching fs.ErrExist ("an existing file is never written over");
// Close "returns ... ErrClosed when called again"; Record after Close
// returns false; the frame stays the caller's (changing it after Record
// does not change the recording). A reader of something that is not a
// recording gets ErrFormat; a file cut inside its last line gives the
// lines before the cut, then an error matching ErrCutShort, ErrFormat and
// io.ErrUnexpectedEOF.
func TestS27ctRecorderMisuseAndErrors(t *testing.T) {
	for _, compress := range []bool{false, true} {
		name := "plain.jsonl"
		if compress {
			name = "zstd.jsonl.zst"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := recorder.New(filepath.Join(dir, "missing", name), nil)
			assert.Error(t, err, "a directory that does not exist")
			path := filepath.Join(dir, name)
			r, err := recorder.New(path, &recorder.Options{Venue: schema.VenueBinance, Compress: compress})
			require.NoError(t, err)
			_, err = recorder.New(path, &recorder.Options{Compress: compress})
			assert.ErrorIs(t, err, fs.ErrExist, "a second recorder on the same path")
			f := &schema.WsFrame{Provider: schema.VenueBinance, ConnID: 1}
			for i := 1; i <= 3; i++ {
				f.Seq = uint64(i)
				f.Data = append(f.Data[:0], `{"i":`+string(rune('0'+i))+`}`...)
				require.True(t, r.Record(f))
				copy(f.Data, `{"x":0}`) // the caller's frame, reused at once
			}
			require.NoError(t, r.Close())
			assert.ErrorIs(t, r.Close(), recorder.ErrClosed, "a second Close")
			assert.False(t, r.Record(f), "Record after Close")

			rd, err := recorder.Open(path)
			require.NoError(t, err)
			var texts []string
			for {
				l, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				texts = append(texts, l.Text)
			}
			require.NoError(t, rd.Close())
			assert.Equal(t, []string{`{"i":1}`, `{"i":2}`, `{"i":3}`}, texts, "the frames as they were at Record")

			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			cut := filepath.Join(dir, "cut-"+name)
			require.NoError(t, os.WriteFile(cut, raw[:len(raw)-5], 0o600))
			if compress {
				return // a file of one zstd frame cut: TestS27ctRecorderCutBeforeTheHeader
			}
			var n int
			rd, err = recorder.Open(cut)
			if assert.NoError(t, err) {
				for {
					_, err = rd.Next()
					if err != nil {
						break
					}
					n++
				}
				_ = rd.Close()
			}
			assert.ErrorIs(t, err, recorder.ErrCutShort, "a file cut inside its last line")
			assert.ErrorIs(t, err, recorder.ErrFormat)
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
			assert.Equal(t, 2, n, "the lines before the cut")
		})
	}
	_, err := recorder.NewReader(strings.NewReader("not a recording\n"))
	assert.ErrorIs(t, err, recorder.ErrFormat)
	_, err = recorder.NewReader(strings.NewReader(""))
	assert.Error(t, err, "an empty file is no recording")
}

// ErrCutShort "is wrapped, with ErrFormat, by a Reader's error for a file
// that ends inside a line or inside a zstd frame: the end a recorder
// killed mid-write leaves". A recorder killed before its first flush
// leaves a file that ends inside its first line (plain) or inside its
// only zstd frame (compressed): Open's error must match ErrCutShort and
// io.ErrUnexpectedEOF as well as ErrFormat, so that a host (and
// cmd/meltica's replay, "the cut reported") tells a cut recording from a
// file that is not one.
func TestS27ctRecorderCutBeforeTheHeader(t *testing.T) {
	for _, compress := range []bool{false, true} {
		name := "plain.jsonl"
		if compress {
			name = "zstd.jsonl.zst"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			r, err := recorder.New(path, &recorder.Options{Venue: schema.VenueBinance, Compress: compress})
			require.NoError(t, err)
			require.True(t, r.Record(&schema.WsFrame{Provider: schema.VenueBinance, ConnID: 1, Seq: 1, Data: []byte(`{"i":1}`)}))
			require.NoError(t, r.Close())
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			end := 20 // inside the header line of a plain file
			if compress {
				end = len(raw) - 5 // inside the only zstd frame
			}
			cut := filepath.Join(dir, "cut-"+name)
			require.NoError(t, os.WriteFile(cut, raw[:end], 0o600))
			rd, err := recorder.Open(cut)
			if err == nil {
				_, err = rd.Next()
				_ = rd.Close()
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, recorder.ErrFormat)
			assert.ErrorIs(t, err, recorder.ErrCutShort)
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		})
	}
}
