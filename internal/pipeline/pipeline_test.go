package pipeline

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/internal/cryptofeed"
	"github.com/meltica/meltica/recorder"
)

const (
	sharedKraken  = "../../../shared/recordings/KRAKEN.ws.50.0"
	shippedKraken = "../../testdata/recordings/kraken-v1-book-2021-04-17.jsonl.zst"
)

// The whole Kraken v1 session recorded from the live venue, 10 pairs at
// depth 1000: every update's CRC32 is recomputed from the book and matches,
// fed straight to the parser and served over a real WebSocket.
func TestSharedKrakenSessionVerifiesEveryChecksum(t *testing.T) {
	if _, err := os.Stat(sharedKraken); err != nil {
		t.Skip("no ../shared/recordings: ", err)
	}
	var updates uint64 // updates carrying "c" in the recording, counted from the text
	path := filepath.Join(t.TempDir(), "kraken.jsonl.zst")
	f, err := os.Create(path)
	require.NoError(t, err)
	sess, err := cryptofeed.Convert(sharedKraken, f, "kraken", true)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = cryptofeed.ReadFile(sharedKraken, func(_ *cryptofeed.Session, l *recorder.Line) error {
		if bytes.Contains([]byte(l.Text), []byte(`"c":"`)) {
			updates++
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, "wss://ws.kraken.com", sess.URL)
	require.Greater(t, updates, uint64(4000))

	for _, direct := range []bool{true, false} {
		t.Run(map[bool]string{true: "direct", false: "websocket"}[direct], func(t *testing.T) {
			res, err := Replay(context.Background(), ReplayConfig{Files: []string{path}, Depth: 1000, Direct: direct})
			require.NoError(t, err)
			s := res.Summary
			assert.Equal(t, "kraken-v1", res.Venue)
			assert.Equal(t, uint64(sess.In), s.Frames)
			assert.Equal(t, updates, s.Checksums, "every checksum verified")
			assert.Zero(t, s.Mismatch)
			assert.Zero(t, s.Unchecked)
			assert.Zero(t, s.Parser.Errors)
			assert.Equal(t, 10, s.Books)
			assert.Equal(t, 10, s.Live)
			assert.Zero(t, s.BookGaps)
		})
	}
}

// The shipped session is the shared one, converted: same frames, same
// times, byte for byte.
func TestShippedSessionIsTheSharedOne(t *testing.T) {
	if _, err := os.Stat(sharedKraken); err != nil {
		t.Skip("no ../shared/recordings: ", err)
	}
	var want []recorder.Line
	_, err := cryptofeed.ReadFile(sharedKraken, func(_ *cryptofeed.Session, l *recorder.Line) error {
		want = append(want, *l)
		return nil
	})
	require.NoError(t, err)
	r, err := recorder.Open(shippedKraken)
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, "kraken", r.Header().Venue)
	assert.Equal(t, "wss://ws.kraken.com", r.Header().URL)
	var got []recorder.Line
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		got = append(got, *l)
	}
	require.Equal(t, want, got)
}

// What a fresh clone has: the shipped session over a real WebSocket, every
// checksum verified, and the pipeline's log says which books it kept.
func TestShippedSessionOverWebSocket(t *testing.T) {
	var logs bytes.Buffer
	var progress []uint64
	res, err := Replay(context.Background(), ReplayConfig{
		Files: []string{shippedKraken}, Depth: 1000,
		Config:   Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		Progress: func(done, total uint64) { progress = append(progress, done, total) },
	})
	require.NoError(t, err)
	s := res.Summary
	assert.Equal(t, uint64(4321), s.Frames)
	assert.Equal(t, uint64(4269), s.Checksums)
	assert.Zero(t, s.Mismatch)
	assert.Zero(t, s.Unchecked)
	assert.Equal(t, 10, s.Live)
	assert.Equal(t, uint64(4321), res.Client.Messages)
	assert.Zero(t, res.Client.TotalReconnects())
	require.Len(t, res.Books, 10)
	assert.Equal(t, "ADA-BTC", res.Books[0].Symbol)
	assert.Equal(t, "0.000022880", res.Books[0].BBO.BidPrice.String())
	assert.Equal(t, []uint64{4321, 4321}, progress[len(progress)-2:])
	assert.Contains(t, logs.String(), `level=INFO msg="book kept" venue=kraken symbol=XMR-USD`)
	assert.Contains(t, logs.String(), `level=INFO msg="replay connection accepted" venue=kraken connection=1`)

	var out bytes.Buffer
	s.Print(&out, res.Elapsed)
	assert.Contains(t, out.String(), "checksums         4269 verified, 0 mismatched, 0 not checked")
}

// A checksum that does not match is counted, logged, and the book
// invalidates itself.
func TestChecksumMismatchCounted(t *testing.T) {
	src, err := recorder.Open(shippedKraken)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	f, err := os.Create(path)
	require.NoError(t, err)
	w, err := recorder.NewWriter(f, false)
	require.NoError(t, err)
	require.NoError(t, w.WriteHeader(src.Header()))
	corrupted := false
	for {
		l, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if i := bytes.Index([]byte(l.Text), []byte(`"c":"`)); i >= 0 && !corrupted {
			b := []byte(l.Text)
			end := i + 5 + bytes.IndexByte(b[i+5:], '"') - 1 // the checksum's last digit
			b[end] = '0' + (b[end]-'0'+1)%10
			l.Text = string(b)
			corrupted = true
		}
		require.NoError(t, w.Write(l))
	}
	src.Close()
	require.NoError(t, w.Close())
	require.NoError(t, f.Close())

	var logs bytes.Buffer
	res, err := Replay(context.Background(), ReplayConfig{Files: []string{path}, Depth: 1000, Direct: true,
		Config: Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}})
	require.NoError(t, err)
	s := res.Summary
	assert.Equal(t, uint64(1), s.Mismatch)
	assert.Zero(t, s.Parser.Errors)
	assert.Equal(t, uint64(1), s.BookGaps)
	assert.Positive(t, s.Unchecked, "updates of the broken book until its next snapshot")
	assert.Equal(t, uint64(4269)-1-s.Unchecked, s.Checksums)
	assert.Contains(t, logs.String(), `level=WARN msg="book checksum mismatch" venue=kraken`)
}

// The shared Coinbase Exchange session (level2 and ticker, 10 products):
// every frame parsed, the 10 books live to the end and never crossed (a
// crossed book would have published a gap marker).
func TestSharedCoinbaseSessionBooksNeverCross(t *testing.T) {
	const shared = "../../../shared/recordings/COINBASE.ws.28.0.gz"
	if _, err := os.Stat(shared); err != nil {
		t.Skip("no ../shared/recordings: ", err)
	}
	path := filepath.Join(t.TempDir(), "coinbase.jsonl.zst")
	f, err := os.Create(path)
	require.NoError(t, err)
	sess, err := cryptofeed.Convert(shared, f, "coinbase", true)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	res, err := Replay(context.Background(), ReplayConfig{Files: []string{path}})
	require.NoError(t, err)
	s := res.Summary
	assert.Equal(t, uint64(sess.In), s.Frames)
	assert.Zero(t, s.Parser.Errors)
	assert.Zero(t, s.Parser.Unknown)
	assert.Equal(t, 10, s.Books)
	assert.Equal(t, 10, s.Live)
	assert.Zero(t, s.BookGaps, "no book crossed or broke")
	var out bytes.Buffer
	s.Print(&out, res.Elapsed)
	assert.Contains(t, out.String(), "checksums         none: the venue sent none")
}
