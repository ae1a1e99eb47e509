package recorder_test

import (
	"bytes"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
)

// A compressed recording's frames declare a 1 MiB window, so that a Reader
// of it holds 1 MiB of history, not zstd's default 8 MiB (see NewWriter).
func TestS38rvciZstdWindowIsOneMiB(t *testing.T) {
	var buf bytes.Buffer
	w, err := recorder.NewWriter(&buf, true)
	require.NoError(t, err)
	require.NoError(t, w.WriteHeader(recorder.Line{Venue: "binance"}))
	require.NoError(t, w.Flush()) // a recorder's stream: its size not known ahead
	require.NoError(t, w.Write(&recorder.Line{Time: 1, Conn: 1, Seq: 1, Text: `{"e":"trade"}`}))
	require.NoError(t, w.Close())
	var h zstd.Header
	require.NoError(t, h.Decode(buf.Bytes()))
	require.False(t, h.SingleSegment, "a frame that declares its window")
	require.Equal(t, uint64(1<<20), h.WindowSize, "declared window")
}
