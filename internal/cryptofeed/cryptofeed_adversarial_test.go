package cryptofeed_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/internal/cryptofeed"
	"github.com/meltica/meltica/recorder"
)

// A message that is not UTF-8 cannot have been a WebSocket text frame (RFC
// 6455 section 5.6): it is imported as binary, byte for byte, so that a
// replay serves it as binary and a client does not drop it as an invalid
// text frame. Lines of every bad kind are typed errors.
func TestAdvImportBinaryAndBadLines(t *testing.T) {
	src := "wss://x <-> 1.5\n1.6: \xff\x00\x01\n1.7: {\"a\":\"é\"}\r\n"
	type got struct {
		bin  bool
		data string
	}
	var lines []got
	_, err := cryptofeed.Read(strings.NewReader(src), func(_ *cryptofeed.Session, l *recorder.Line) error {
		d := l.Text
		if l.Bin != nil {
			d = string(l.Bin)
		}
		lines = append(lines, got{l.Binary, d})
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []got{{true, "\xff\x00\x01"}, {false, `{"a":"é"}`}}, lines)

	for _, bad := range []string{"no timestamp here\n", "1.2.3: x\n", "99999999999999999999: x\n", "1.0000000001: x\n", "wss://x <- : x\n", "-1: x\n"} {
		_, err := cryptofeed.Read(strings.NewReader(bad), func(*cryptofeed.Session, *recorder.Line) error { return nil })
		require.ErrorIs(t, err, cryptofeed.ErrFormat, "%q", bad)
	}
}
