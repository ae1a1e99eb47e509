package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// A rotated recording given without its last parts (`replay
// rec-000001.jsonl`, a glob that missed some) replayed the parts given
// and said nothing: a session cut short that looked whole. The recorder
// names the next part after each, so Import refuses a last part whose
// next part is beside it and not given, naming that part; the whole
// recording, or a part moved away from the rest, is taken.
func TestS27ImportRefusesARecordingWithoutItsLastParts(t *testing.T) {
	dir := t.TempDir()
	rec, err := recorder.New(filepath.Join(dir, "r.jsonl.zst"), &recorder.Options{Venue: schema.VenueBinance, URL: "wss://stream.binance.com:9443/ws", MaxFileBytes: 1500, Compress: true})
	require.NoError(t, err)
	for i := 1; i <= 40; i++ {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i), ReceivedAt: int64(i), Data: []byte(`{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1.0","q":"1.0","T":1,"m":true}`)}))
	}
	require.NoError(t, rec.Close())
	files := rec.Files()
	require.Greater(t, len(files), 2)

	for _, given := range [][]string{files[:1], files[:len(files)-1]} {
		_, _, err := Import(given, "")
		require.Error(t, err, "%v", given)
		assert.Contains(t, err.Error(), filepath.Base(files[len(given)]), "the missing part is named")
	}
	out, cleanup, err := Import(files, "")
	require.NoError(t, err)
	cleanup()
	assert.Equal(t, files, out)

	// A part copied away from the rest stands alone.
	alone := filepath.Join(t.TempDir(), filepath.Base(files[0]))
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(alone, b, 0o666))
	_, cleanup, err = Import([]string{alone}, "")
	require.NoError(t, err)
	cleanup()
}
