package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// A recorder killed just after a rotation leaves the last part of its
// recording empty or cut inside its header line; the recorder reads the
// parts before it and reports the end as a cut (ErrCutShort:
// recorder's TestS25rvLastPartCutInItsHeader). Import took each file
// alone, found that part "empty" (no recording, no cryptofeed session)
// and refused the whole recording, so `meltica replay` and `serve` of
// every part replayed nothing. Now such a last part is passed on with
// the rest, and Replay gives every frame before it and then the cut. A
// part so cut in the middle, or a lone file, is still refused.
func TestS27ImportKeepsALastPartCutInItsHeader(t *testing.T) {
	for _, compress := range []bool{false, true} {
		ext := map[bool]string{false: ".jsonl", true: ".jsonl.zst"}[compress]
		for name, keep := range map[string]int{"empty": 0, "header torn": 10} {
			t.Run(ext+" "+name, func(t *testing.T) {
				files := recordS27Parts(t, filepath.Join(t.TempDir(), "r"+ext), compress)
				last := files[len(files)-1]
				b, err := os.ReadFile(last)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(last, b[:min(keep, len(b))], 0o666))

				out, cleanup, err := Import(files, "")
				require.NoError(t, err)
				defer cleanup()
				assert.Equal(t, files, out)
				r, err := recorder.Open(out...)
				require.NoError(t, err)
				defer r.Close()
				st, err := recorder.Replay(context.Background(), r, func(context.Context, *schema.WsFrame) error { return nil }, nil)
				require.ErrorIs(t, err, recorder.ErrCutShort)
				assert.Positive(t, st.Frames)

				// The same part in the middle, or alone, is refused.
				_, _, err = Import(append(append([]string{}, files[:1]...), last, files[1]), "")
				require.ErrorIs(t, err, recorder.ErrFormat)
				_, _, err = Import([]string{last}, "")
				require.ErrorIs(t, err, recorder.ErrFormat)
			})
		}
	}
}

// recordS27Parts records 40 Binance frames at path rotating every 1500
// bytes, and returns the parts (more than two).
func recordS27Parts(t *testing.T, path string, compress bool) []string {
	t.Helper()
	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueBinance, URL: "wss://stream.binance.com:9443/ws", MaxFileBytes: 1500, Compress: compress})
	require.NoError(t, err)
	for i := 1; i <= 40; i++ {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i), ReceivedAt: int64(i), Data: []byte(`{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1.0","q":"1.0","T":1,"m":true}`)}))
	}
	require.NoError(t, rec.Close())
	files := rec.Files()
	require.Greater(t, len(files), 2)
	return files
}
