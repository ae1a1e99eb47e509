package cryptofeed_test

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

	"github.com/meltica/meltica/internal/cryptofeed"
	"github.com/meltica/meltica/recorder"
)

type seen struct {
	conn, seq uint64
	out       bool
	text      string
}

func readAll(t *testing.T, src string) (cryptofeed.Session, []seen, error) {
	t.Helper()
	var got []seen
	s, err := cryptofeed.Read(strings.NewReader(src), func(_ *cryptofeed.Session, l *recorder.Line) error {
		got = append(got, seen{l.Conn, l.Seq, l.Out, l.Text})
		return nil
	})
	return s, got, err
}

// cryptofeed's raw data collection (cryptofeed/raw_data_collection.py,
// AsyncFileCallback.set_header) opens a file with "configuration: DATA",
// as BINANCE.0.gz of ../shared/recordings does: it is no frame and no
// error; the reader keeps it.
func TestS24ConfigurationLine(t *testing.T) {
	s, got, err := readAll(t, "configuration: {\"trades\":[\"BTC-USD\"]}\nhttps://api/x -> 1.5: {}\nwss://x <-> 2.0\n2.5: {\"a\":1}\n")
	require.NoError(t, err)
	assert.Equal(t, `{"trades":["BTC-USD"]}`, s.Config)
	assert.Equal(t, []seen{{1, 1, false, `{"a":1}`}}, got)
}

// A file cryptofeed rotated (a new file every 100 MB) begins in the middle
// of a connection: its frames before the first connection line are one
// connection's, and the next connection line opens another, whose frames
// are numbered apart (Conn 2, Seq from 1) instead of repeating Conn 1's.
func TestS24RotatedFileConnections(t *testing.T) {
	s, got, err := readAll(t, "1.0: a\n1.1: b\nwss://x <-> 2.0\n2.1: c\n")
	require.NoError(t, err)
	assert.Equal(t, []seen{{1, 1, false, "a"}, {1, 2, false, "b"}, {2, 1, false, "c"}}, got)
	assert.Equal(t, 2, s.Connections)
}

// Every kind of line carries a TIMESTAMP in Unix seconds with a fraction,
// Python's repr of a float (digits, a point, digits): a connection or
// REST line whose timestamp is not one is not the format.
func TestS24TimestampsOfEveryKind(t *testing.T) {
	for _, bad := range []string{
		"wss://x <-> junk\n",
		"wss://x <-> \n",
		"https://y -> junk: {}\n",
		"1.: x\n",
		"wss://x <-> 1.5 extra\n",
	} {
		_, _, err := readAll(t, bad)
		require.ErrorIs(t, err, cryptofeed.ErrFormat, "%q", bad)
	}
}

// A line longer than a recording's MaxLine is refused as not the format
// after that many bytes, not gathered into memory whole.
func TestS24HugeLineRefused(t *testing.T) {
	huge := io.MultiReader(strings.NewReader("1.5: "), &endless{})
	_, err := cryptofeed.Read(huge, func(*cryptofeed.Session, *recorder.Line) error { return nil })
	require.ErrorIs(t, err, cryptofeed.ErrFormat)
	assert.Contains(t, err.Error(), "longer than")
}

// endless is a line without end, of 'x', failing the test past 2 × MaxLine.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	if e.n > 2*recorder.MaxLine {
		return 0, io.ErrUnexpectedEOF
	}
	for i := range p {
		p[i] = 'x'
	}
	e.n += len(p)
	return len(p), nil
}

// Every file of ../shared/recordings (the format's own samples, REST and
// configuration lines included) reads whole, when the folder is there.
func TestS24SharedRecordingsRead(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "recordings")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("../shared/recordings not present")
	}
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() == "README.md" || e.IsDir() {
			continue
		}
		s, err := cryptofeed.ReadFile(filepath.Join(dir, e.Name()), func(*cryptofeed.Session, *recorder.Line) error { return nil })
		require.NoError(t, err, e.Name())
		assert.Positive(t, s.In+s.REST, "%s: something read", e.Name())
	}
}
