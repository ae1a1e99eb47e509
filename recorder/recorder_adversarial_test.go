package recorder_test

// Adversarial tests of the recorder written apart from its builders': a
// disk that fails or cannot be created, rotation exactly at the size
// boundary (plain and zstd), payloads of every kind byte for byte, and
// Close racing the taps.

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// countHandler is a slog.Handler counting records by level and message.
type countHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }

func (h *countHandler) count(level slog.Level) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		if r.Level == level {
			n++
		}
	}
	return n
}

func (h *countHandler) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		out = append(out, r.Level.String()+" "+r.Message)
	}
	return out
}

// A file that cannot be created fails New with the cause, and starts
// nothing (TestMain's goleak checks).
func TestAdvNewCannotCreate(t *testing.T) {
	_, err := recorder.New(filepath.Join(t.TempDir(), "no", "such", "dir", "s.jsonl"), nil)
	require.Error(t, err)
	var calls int
	_, err = recorder.New("x", &recorder.Options{Create: func(string) (io.WriteCloser, error) {
		calls++
		return nil, syscall.ENOSPC
	}})
	require.ErrorIs(t, err, syscall.ENOSPC)
	assert.Equal(t, 1, calls)
}

// fullDisk takes limit bytes, then fails every write with ENOSPC.
type fullDisk struct {
	mu     sync.Mutex
	limit  int
	buf    bytes.Buffer
	closed atomic.Bool
}

func (d *fullDisk) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	room := d.limit - d.buf.Len()
	if room >= len(p) {
		return d.buf.Write(p)
	}
	if room > 0 {
		d.buf.Write(p[:room])
	} else {
		room = 0
	}
	return room, syscall.ENOSPC
}

func (d *fullDisk) Close() error { d.closed.Store(true); return nil }

// A disk that fills up: the taps never wait, every frame is either
// written, dropped or lost to the failure — counted — the error comes back
// from Close, the file is closed, and the log says it once, at Warn.
func TestAdvDiskFull(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "zstd"}[compress], func(t *testing.T) {
			disk := &fullDisk{limit: 20 << 10}
			logs := &countHandler{}
			rec, err := recorder.New("full.jsonl", &recorder.Options{
				Compress: compress, Queue: 64, FlushInterval: time.Millisecond,
				Create: func(string) (io.WriteCloser, error) { return disk, nil },
				Logger: slog.New(logs),
			})
			require.NoError(t, err)
			const n, size = 5000, 2000
			payload := make([]byte, n*size) // random: zstd cannot shrink it
			_, _ = rand.Read(payload)
			for i := range n {
				rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: int64(i + 1), Data: payload[i*size : (i+1)*size], Binary: true})
			}
			err = rec.Close()
			t.Logf("%+v disk %d", rec.Stats(), disk.buf.Len())
			require.ErrorIs(t, err, syscall.ENOSPC, "the disk's error comes back from Close")
			assert.True(t, disk.closed.Load(), "the file is closed")
			st := rec.Stats()
			assert.Equal(t, uint64(n), st.Frames+st.Dropped, "every frame was queued or dropped")
			assert.Equal(t, st.Frames, st.Written+st.WriteErrors, "every queued frame is written or counted lost: %+v", st)
			assert.Positive(t, st.WriteErrors, "frames lost to the full disk are counted: %+v", st)
			var failed int
			for _, m := range logs.messages() {
				if m == "WARN recording write failed" {
					failed++
				}
			}
			assert.Equal(t, 1, failed, "one Warn for the failure: %v", logs.messages())
			assert.Less(t, logs.count(slog.LevelWarn), 50, "a few Warns, never one a frame: %v", logs.messages())

			// What reached the disk reads back up to the break: every line
			// read is a frame that was recorded, in order.
			r, err := recorder.NewReader(bytes.NewReader(disk.buf.Bytes()))
			if err != nil {
				return // the header itself did not reach the disk
			}
			defer r.Close()
			var last uint64
			var read uint64
			for {
				l, err := r.Next()
				if err != nil {
					break
				}
				require.Greater(t, l.Seq, last)
				last = l.Seq
				read++
			}
			assert.GreaterOrEqual(t, read, st.Written, "every frame counted written reads back")
			assert.LessOrEqual(t, read, st.Written+st.WriteErrors)
		})
	}
}

// Lines that sit in the writer's buffer when the disk fails are not
// written: Written must not count them.
func TestAdvDiskFullWrittenIsHonest(t *testing.T) {
	disk := &fullDisk{limit: 0}
	rec, err := recorder.New("full.jsonl", &recorder.Options{
		Create: func(string) (io.WriteCloser, error) { return disk, nil },
	})
	require.NoError(t, err)
	for i := range 10 {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: 1, Data: []byte(`{"x":1}`)}))
	}
	require.ErrorIs(t, rec.Close(), syscall.ENOSPC)
	st := rec.Stats()
	assert.Zero(t, disk.buf.Len())
	assert.Zero(t, st.Written, "nothing reached the disk: %+v", st)
	assert.Equal(t, uint64(10), st.WriteErrors, "%+v", st)
}

// lineSize is the bytes of one encoded line.
func lineSize(t *testing.T, l recorder.Line, header bool) int64 {
	t.Helper()
	var b bytes.Buffer
	w, err := recorder.NewWriter(&b, false)
	require.NoError(t, err)
	if header {
		require.NoError(t, w.WriteHeader(l))
	} else {
		require.NoError(t, w.Write(&l))
	}
	require.NoError(t, w.Close())
	return int64(b.Len())
}

// Rotation exactly at the boundary: a file holding exactly MaxFileBytes
// of lines is full, one byte less is not; every frame is read back once,
// in order, across the parts, plain and zstd.
func TestAdvRotationAtBoundary(t *testing.T) {
	data := []byte(`{"e":"trade","p":"1.00"}`)
	frame := func(i int) *schema.WsFrame {
		return &schema.WsFrame{ConnID: 1, Seq: uint64(100 + i), ReceivedAt: 1_700_000_000_000_000_000 + int64(i), Data: data}
	}
	for _, compress := range []bool{false, true} {
		for _, tc := range []struct {
			name    string
			slack   int64
			perFile int
		}{
			{"exact", 0, 3},
			{"one byte short", -1, 3}, // rotates after the third line, which crosses the bound
			{"one byte more", +1, 4},
		} {
			t.Run(map[bool]string{false: "plain", true: "zstd"}[compress]+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				ext := ".jsonl"
				if compress {
					ext += ".zst"
				}
				// Part numbers below 10 keep the header's size fixed.
				const n = 3 * 5
				hdr := lineSize(t, recorder.Line{Venue: "binance", URL: "u", Part: 1, Time: time.Now().UnixNano()}, true)
				ln := lineSize(t, recorder.Line{Time: frame(0).ReceivedAt, Conn: 1, Seq: 100, Text: string(data)}, false)
				rec, err := recorder.New(filepath.Join(dir, "s"+ext), &recorder.Options{
					Venue: schema.VenueBinance, URL: "u", Compress: compress, MaxFileBytes: hdr + 3*ln + tc.slack,
				})
				require.NoError(t, err)
				for i := range n {
					require.True(t, rec.Record(frame(i)))
				}
				require.NoError(t, rec.Close())
				files := rec.Files()
				var total int
				for i, f := range files {
					h, got := readAll(t, f)
					assert.Equal(t, i+1, h.Part)
					if i < len(files)-1 || len(got) > 0 {
						want := min(tc.perFile, n-total)
						assert.Len(t, got, want, "part %d", i+1)
					}
					total += len(got)
				}
				_, got := readAll(t, files...)
				require.Len(t, got, n)
				for i, l := range got {
					assert.Equal(t, uint64(100+i), l.Seq)
					assert.Equal(t, data, message(l))
				}
				assert.Equal(t, uint64(n), rec.Stats().Written)
			})
		}
	}
}

// Every kind of payload comes back byte for byte, binary flag included:
// random binary, text that is not UTF-8, text of control characters,
// a lone surrogate, NULs, CR/LF at the ends, and frames far larger than
// a slot.
func TestAdvPayloadsByteExact(t *testing.T) {
	size := 1 << 20 // under -race the same kinds, smaller (the full size runs without it)
	if !raceEnabled {
		size = 3 << 20
	}
	random := make([]byte, size)
	_, _ = rand.Read(random)
	controls := make([]byte, size/3)
	for i := range controls {
		controls[i] = byte(i % 0x20)
	}
	cases := []struct {
		name   string
		data   []byte
		binary bool
	}{
		{"empty binary", []byte{}, true},
		{"empty text", nil, false},
		{"random binary", random, true},
		{"random as text", random, false},
		{"control characters", controls, false},
		{"lone surrogate", []byte("a\xed\xa0\x80b"), false},
		{"overlong", []byte("\xc0\xaf"), false},
		{"CRLF ends", []byte("\r\n{\"a\":1}\r\n"), false},
		{"NULs", []byte("\x00\x00\x00"), false},
		{"U+2028 and BOM", []byte("\ufeff\u2028\u2029<>&\\\""), false},
		{"text of a zstd magic", []byte{0x28, 0xb5, 0x2f, 0xfd}, false},
		{"newline only", []byte("\n"), true},
		{"U+FFFD", []byte("\uFFFD"), false},
	}
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "zstd"}[compress], func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.jsonl")
			rec, err := recorder.New(path, &recorder.Options{Compress: compress, FrameBytes: 16})
			require.NoError(t, err)
			for i, c := range cases {
				require.True(t, rec.Record(&schema.WsFrame{ConnID: uint64(i%3 + 1), Seq: uint64(i + 1), ReceivedAt: int64(i), Binary: c.binary, Data: c.data}))
			}
			require.NoError(t, rec.Close())
			r, err := recorder.Open(path)
			require.NoError(t, err)
			defer r.Close()
			i := 0
			_, err = recorder.Replay(context.Background(), r, func(_ context.Context, f *schema.WsFrame) error {
				c := cases[i]
				assert.True(t, bytes.Equal(c.data, f.Data), "%s: byte for byte (%d vs %d bytes)", c.name, len(c.data), len(f.Data))
				assert.Equal(t, c.binary, f.Binary, c.name)
				assert.Equal(t, uint64(i%3+1), f.ConnID, c.name)
				i++
				return nil
			}, &recorder.ReplayOptions{Venue: schema.VenueKraken})
			require.NoError(t, err)
			assert.Equal(t, len(cases), i)
		})
	}
}

// A text frame of wsclient's default read limit (16 MiB) that JSON must
// escape at every byte still reads back (MaxLine's promise), and a line
// the reader would refuse is never written.
func TestAdvHugeEscapedText(t *testing.T) {
	if raceEnabled {
		t.Skip("allocates a few hundred MB (runs without -race: CI's coverage step, with -short)")
	}
	data := bytes.Repeat([]byte{0x01}, 16<<20)
	path := filepath.Join(t.TempDir(), "h.jsonl")
	rec, err := recorder.New(path, &recorder.Options{Queue: 2})
	require.NoError(t, err)
	require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: 1, ReceivedAt: 1, Data: data}))
	require.NoError(t, rec.Close())
	r, err := recorder.Open(path)
	require.NoError(t, err)
	defer r.Close()
	l, err := r.Next()
	require.NoError(t, err, "a recorded frame must read back")
	assert.True(t, bytes.Equal(data, message(*l)))
}

// Close while many goroutines tap: no panic, no Record after Close is
// queued, every queued frame is written, nothing leaks (goleak).
func TestAdvCloseDuringTaps(t *testing.T) {
	for range 20 {
		path := filepath.Join(t.TempDir(), "c.jsonl")
		rec, err := recorder.New(path, &recorder.Options{Queue: 32})
		require.NoError(t, err)
		var wg sync.WaitGroup
		start := make(chan struct{})
		var accepted atomic.Uint64
		for c := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := rec.Tap(nil)
				f := &schema.WsFrame{ConnID: uint64(c + 1), Data: []byte("x")}
				<-start
				for i := range 2000 {
					f.Seq = uint64(i + 1)
					if rec.Record(f) {
						accepted.Add(1)
					}
					_ = h(context.Background(), f)
				}
			}()
		}
		close(start)
		require.NoError(t, rec.Close())
		wg.Wait()
		st := rec.Stats()
		assert.Equal(t, st.Frames, st.Written)
		_, got := readAll(t, path)
		assert.Len(t, got, int(st.Written))
		assert.GreaterOrEqual(t, st.Frames, accepted.Load())
	}
}

// Errors from Create after the first file: a rotation into a directory
// that vanished is counted, surfaced, and the recorder still closes.
func TestAdvRotationIntoVanishedDir(t *testing.T) {
	var n atomic.Int32
	rec, err := recorder.New("r.jsonl", &recorder.Options{MaxFileBytes: 1,
		Create: func(name string) (io.WriteCloser, error) {
			if n.Add(1) > 1 {
				return nil, errors.New("no such directory")
			}
			return nopCloser{io.Discard}, nil
		}})
	require.NoError(t, err)
	for i := range 50 {
		rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), Data: []byte("x")})
	}
	require.ErrorContains(t, rec.Close(), "no such directory")
	st := rec.Stats()
	assert.Equal(t, uint64(1), st.Written)
	assert.Equal(t, uint64(49), st.WriteErrors)
	assert.Equal(t, 1, st.Files)
}
