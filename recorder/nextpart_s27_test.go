package recorder_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// NextPart names the part a Recorder writes after a given one, as it
// names them, and nothing for a name it would not give that part.
func TestS27NextPart(t *testing.T) {
	for _, compress := range []bool{false, true} {
		ext := map[bool]string{false: ".jsonl", true: ".jsonl.zst"}[compress]
		rec, err := recorder.New(filepath.Join(t.TempDir(), "r"+ext), &recorder.Options{Venue: schema.VenueBinance, MaxFileBytes: 1500, Compress: compress})
		require.NoError(t, err)
		for i := 1; i <= 40; i++ {
			require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i), ReceivedAt: int64(i), Data: []byte(`{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1.0","q":"1.0","T":1,"m":true}`)}))
		}
		require.NoError(t, rec.Close())
		files := rec.Files()
		require.Greater(t, len(files), 2)
		for i := range files[:len(files)-1] {
			assert.Equal(t, files[i+1], recorder.NextPart(files[i], i+1))
		}
	}
	assert.Empty(t, recorder.NextPart("r.jsonl", 0), "a single-file recording")
	assert.Empty(t, recorder.NextPart("renamed.jsonl", 1))
	assert.Empty(t, recorder.NextPart("r-000001.jsonl", 2), "not part 2's name")
	assert.Equal(t, "d/r-000010.jsonl", recorder.NextPart("d/r-000009.jsonl", 9))
}
