package pipeline

import (
	"context"
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

// writeTrades records n Binance trades at path, rotating every maxBytes
// (0: one file), and returns the files.
func writeTrades(t *testing.T, path string, n int, maxBytes int64) []string {
	t.Helper()
	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueBinance, URL: "wss://stream.binance.com:9443/ws", MaxFileBytes: maxBytes})
	require.NoError(t, err)
	for i := 1; i <= n; i++ {
		id := strconv.Itoa(i)
		msg := `{"e":"trade","E":` + id + `,"s":"BTCUSDT","t":` + id + `,"p":"1.00","q":"1.00","T":` + id + `,"m":true,"M":true}`
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i), ReceivedAt: int64(i), Data: []byte(msg)}))
	}
	require.NoError(t, rec.Close())
	return rec.Files()
}

// cut drops the last k bytes of a file: a recorder killed mid-write.
func cut(t *testing.T, path string, k int) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b[:len(b)-k], 0o666))
}

// A recording cut mid-line (the recorder's process killed: the case a
// recording exists for, a strategy that crashed) replays every whole
// line, over the WebSocket as fed directly, and then reports the cut
// (ErrFormat wrapping ErrCutShort). Over the WebSocket nothing at
// all was replayed (the server refused the file), while -direct replayed
// it. (A cut in an earlier part is lines lost mid-recording, not this:
// recorder's TestS25rvCutOnlyAtTheEnd.)
func TestS25CutRecordingReplaysItsWholeLines(t *testing.T) {
	dir := t.TempDir()
	one := writeTrades(t, filepath.Join(dir, "one.jsonl"), 20, 0)
	cut(t, one[0], 30) // the 20th line torn
	parts := writeTrades(t, filepath.Join(dir, "parts.jsonl"), 20, 1500)
	require.Greater(t, len(parts), 2)
	cut(t, parts[len(parts)-1], 30) // the last part's last line torn: where a killed recorder stops
	r, err := recorder.Open(parts...)
	require.NoError(t, err)
	whole := 0
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err == nil && !l.IsHeader() {
			whole++
		}
	}
	r.Close()
	for _, tc := range []struct {
		name  string
		files []string
		want  uint64
	}{{"one file", one, 19}, {"rotated", parts, uint64(whole)}} {
		for _, direct := range []bool{true, false} {
			t.Run(tc.name+map[bool]string{true: " direct", false: " websocket"}[direct], func(t *testing.T) {
				res, err := Replay(context.Background(), ReplayConfig{Files: tc.files, Direct: direct})
				require.ErrorIs(t, err, recorder.ErrFormat)
				require.ErrorIs(t, err, recorder.ErrCutShort)
				assert.Equal(t, tc.want, res.Summary.Frames, "every whole line replayed")
			})
		}
	}
}
