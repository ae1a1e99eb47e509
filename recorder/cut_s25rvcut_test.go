package recorder_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// A recorder killed mid-write leaves a cut in the LAST part it wrote:
// earlier parts were closed whole by their rotation. A part cut short
// with parts after it lost lines in the middle of the recording (a flush
// that failed at rotation, a file truncated since): that is corruption,
// ErrFormat alone, and reading stops there rather than run the later
// parts on past the gap as if nothing were missing. Plain and zstd alike.
func TestS25rvCutOnlyAtTheEnd(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "zstd"}[compress], func(t *testing.T) {
			write := func(name string) []string {
				rec, err := recorder.New(filepath.Join(t.TempDir(), name), &recorder.Options{Venue: schema.VenueBinance, URL: "wss://stream.binance.com:9443/ws", MaxFileBytes: 1500, Compress: compress})
				require.NoError(t, err)
				for i := 1; i <= 40; i++ {
					msg := `{"e":"trade","E":` + strconv.Itoa(i) + `,"s":"BTCUSDT","p":"1.00","q":"1.00"}`
					require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i), ReceivedAt: int64(i), Data: []byte(msg)}))
				}
				require.NoError(t, rec.Close())
				files := rec.Files()
				require.Greater(t, len(files), 2)
				return files
			}
			cutAt := func(path string) {
				b, err := os.ReadFile(path)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(path, b[:len(b)-20], 0o666))
			}
			readAll := func(files []string) (int, error) {
				r, err := recorder.Open(files...)
				if err != nil {
					return 0, err // zstd: the first part's one frame holds its header too
				}
				defer r.Close()
				n := 0
				var first error
				for {
					_, err := r.Next()
					if err == io.EOF {
						return n, first
					}
					if err != nil {
						if first == nil {
							first = err
						}
						if !errors.Is(err, recorder.ErrCutShort) {
							return n, err // a caller stops on anything else
						}
						continue
					}
					n++
				}
			}

			last := write("last.jsonl")
			cutAt(last[len(last)-1])
			n, err := readAll(last)
			require.ErrorIs(t, err, recorder.ErrCutShort, "the last part cut: a recorder killed mid-write")
			assert.Positive(t, n, "the parts before the cut are read")

			mid := write("mid.jsonl")
			cutAt(mid[0])
			_, err = readAll(mid)
			require.ErrorIs(t, err, recorder.ErrFormat)
			assert.NotErrorIs(t, err, recorder.ErrCutShort, "a cut with parts after it is lines lost mid-recording")
		})
	}
}

// A recorder killed just after a rotation leaves its last part empty or
// cut inside its header line: the parts before it are read, and the end
// is ErrCutShort, as any cut at the end; the first file of a recording so
// cut is no recording at all (Open fails).
func TestS25rvLastPartCutInItsHeader(t *testing.T) {
	files := recordParts(t)
	last := files[len(files)-1]
	b, err := os.ReadFile(last)
	require.NoError(t, err)
	for name, keep := range map[string]int{"empty": 0, "header torn": 10} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(last, b[:keep], 0o666))
			r, err := recorder.Open(files...)
			require.NoError(t, err)
			defer r.Close()
			n, cuts := 0, 0
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if errors.Is(err, recorder.ErrCutShort) {
					cuts++
					continue
				}
				require.NoError(t, err)
				n++
			}
			assert.Equal(t, 1, cuts)
			assert.Positive(t, n)
		})
	}
}

// recordParts records 40 Binance frames rotating every 1500 bytes, and
// returns the parts (more than two).
func recordParts(t *testing.T) []string {
	t.Helper()
	rec, err := recorder.New(filepath.Join(t.TempDir(), "r.jsonl"), &recorder.Options{Venue: schema.VenueBinance, URL: "wss://stream.binance.com:9443/ws", MaxFileBytes: 1500})
	require.NoError(t, err)
	for i := 1; i <= 40; i++ {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i), ReceivedAt: int64(i), Data: []byte(`{"e":"trade","E":` + strconv.Itoa(i) + `}`)}))
	}
	require.NoError(t, rec.Close())
	files := rec.Files()
	require.Greater(t, len(files), 2)
	return files
}
