package recorder_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
)

// A reader following a file still being written meets a line longer than
// MaxLine whose end is not written yet: Next reports it (ErrFormat), finds
// io.EOF until the file grows, and then returns the line after the long
// one (Next's doc: "read no further: the next call returns the line after
// it"). The rest of the long line, written later, was read as a line of its
// own, an ErrFormat of garbage (or worse, a line).
func TestS24rvFollowedHugeLineSkippedWhole(t *testing.T) {
	if raceEnabled {
		t.Skip("reads MaxLine bytes (runs without -race: CI's coverage step, with -short)")
	}
	for _, over := range []int{10, 300 << 10} { // cut in the gathering, and in the skipping
		var buf bytes.Buffer
		w, err := recorder.NewWriter(&buf, false)
		require.NoError(t, err)
		require.NoError(t, w.WriteHeader(recorder.Line{Venue: "binance"}))
		require.NoError(t, w.Flush())
		r, err := recorder.NewReader(&buf)
		require.NoError(t, err)

		buf.WriteString(`{"t":1,"text":"`)
		buf.Write(bytes.Repeat([]byte("a"), recorder.MaxLine+over))
		_, err = r.Next()
		require.ErrorIs(t, err, recorder.ErrFormat, "over by %d", over)
		assert.Contains(t, err.Error(), "longer than")
		_, err = r.Next()
		require.True(t, errors.Is(err, io.EOF), "nothing more yet: %v", err)

		buf.WriteString("aaaa\"}\n") // the long line's end, written later
		require.NoError(t, w.Write(&recorder.Line{Time: 2, Conn: 1, Seq: 2, Text: "after"}))
		require.NoError(t, w.Flush())
		l, err := r.Next()
		require.NoError(t, err, "over by %d: the line after the long one", over)
		assert.Equal(t, "after", l.Text)
		require.NoError(t, r.Close())
	}
}
