package cryptofeed

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
)

func TestParseTime(t *testing.T) {
	for in, want := range map[string]int64{
		"1618678132.8253062": 1618678132825306200,
		"1618678132":         1618678132000000000,
		"1618678132.1":       1618678132100000000,
		"0.000000001":        1,
	} {
		got, err := ParseTime([]byte(in))
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", ".5", "12a.3", "1.1234567890", "-1.0", "212170000000", "9999999999.5"} {
		_, err := ParseTime([]byte(bad))
		assert.ErrorIs(t, err, ErrFormat, bad)
	}
}

func TestReadKinds(t *testing.T) {
	src := strings.Join([]string{
		"wss://ws.kraken.com <-> 1618678132.3858151",
		`wss://ws.kraken.com <- 1618678132.8253062: {"event":"subscribe"}`,
		`1618678132.8258188: {"event":"systemStatus","note":"a -> b <- c"}`,
		`https://api/depth -> 1618678133.5: {"bids":[]}`,
		"wss://ws.kraken.com <-> 1618678140.0",
		`1618678141.25: [1,{"a":[]}]`,
		"",
	}, "\n")
	var got []recorder.Line
	s, err := Read(strings.NewReader(src), func(_ *Session, l *recorder.Line) error {
		got = append(got, *l)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, Session{URL: "wss://ws.kraken.com", Connections: 2, In: 2, Out: 1, REST: 1}, s)
	require.Len(t, got, 3)
	assert.Equal(t, recorder.Line{Time: 1618678132825306200, Conn: 1, Out: true, Text: `{"event":"subscribe"}`}, got[0])
	assert.Equal(t, recorder.Line{Time: 1618678132825818800, Conn: 1, Seq: 1, Text: `{"event":"systemStatus","note":"a -> b <- c"}`}, got[1])
	assert.Equal(t, recorder.Line{Time: 1618678141250000000, Conn: 2, Seq: 1, Text: `[1,{"a":[]}]`}, got[2])

	_, err = Read(strings.NewReader("garbage line\n"), func(*Session, *recorder.Line) error { return nil })
	assert.ErrorIs(t, err, ErrFormat)
}

// FuzzRead: any text gives lines or an error, never a panic.
func FuzzRead(f *testing.F) {
	f.Add("wss://ws.kraken.com <-> 1618678132.3858151\n1618678132.8258188: {\"event\":\"heartbeat\"}\n")
	f.Add("wss://x <- 1.5: {}\nhttps://y -> 2: {}\n")
	f.Add("1.2.3: x\n")
	f.Add(": \n")
	f.Add("configuration: {}\n1.0: a\nwss://x <-> 2.0\n2.5: b\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Read(strings.NewReader(s), func(_ *Session, l *recorder.Line) error {
			if l.Time < 0 {
				t.Fatalf("negative time from %q", s)
			}
			return nil
		})
	})
}

func TestConvertPlainAndGzip(t *testing.T) {
	src := "wss://ws.kraken.com <-> 1618678132.3858151\n" +
		"wss://ws.kraken.com <- 1618678132.8253062: {\"event\":\"subscribe\"}\n" +
		"1618678132.8258188: {\"event\":\"heartbeat\"}\n"
	dir := t.TempDir()
	plain := filepath.Join(dir, "K.ws.0")
	require.NoError(t, os.WriteFile(plain, []byte(src), 0o600))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(src))
	require.NoError(t, zw.Close())
	zipped := filepath.Join(dir, "K.ws.0.gz")
	require.NoError(t, os.WriteFile(zipped, gz.Bytes(), 0o600))

	for _, path := range []string{plain, zipped} {
		out := filepath.Join(dir, filepath.Base(path)+".jsonl.zst")
		f, err := os.Create(out)
		require.NoError(t, err)
		s, err := Convert(path, f, "kraken", true)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		assert.Equal(t, Session{URL: "wss://ws.kraken.com", Connections: 1, In: 1, Out: 1}, s)
		r, err := recorder.Open(out)
		require.NoError(t, err)
		assert.Equal(t, "wss://ws.kraken.com", r.Header().URL)
		assert.Equal(t, int64(1618678132825306200), r.Header().Time)
		l, err := r.Next()
		require.NoError(t, err)
		assert.True(t, l.Out)
		l, err = r.Next()
		require.NoError(t, err)
		assert.Equal(t, `{"event":"heartbeat"}`, l.Text)
		require.NoError(t, r.Close())
	}
	_, err := ReadFile(filepath.Join(dir, "missing"), nil)
	require.Error(t, err)
}
