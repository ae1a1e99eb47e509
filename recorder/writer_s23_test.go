package recorder

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// Review s23: a line refused as longer than MaxLine does not leave its
// buffer (over 64 MiB) held by the Writer for the rest of the recording,
// as a written one of over 1 MiB does not.
func TestS23TooLongLineBufferNotKept(t *testing.T) {
	if raceEnabled {
		t.Skip("encodes MaxLine bytes (runs without -race: CI's coverage step, with -short)")
	}
	w, err := NewWriter(io.Discard, false)
	require.NoError(t, err)
	big := make([]byte, MaxLine*3/4+1) // base64: past MaxLine
	require.ErrorIs(t, w.Write(&Line{Time: 1, Conn: 1, Seq: 1, Binary: true, Bin: big}), ErrLineTooLong)
	require.LessOrEqual(t, w.line.Cap(), keepLineBytes, "the refused line's buffer is kept")
	require.NoError(t, w.Write(&Line{Time: 2, Conn: 1, Seq: 2, Text: "a"}))
	require.NoError(t, w.Close())
}
