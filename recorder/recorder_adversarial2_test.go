package recorder_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/internal/cryptofeed"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// A header met in the middle of a stream (concatenated parts, `cat a b`)
// is checked as the first one is: a part of another format or version is
// ErrFormat, not silently read as this version's frames; and Header then
// names the part being read, so its venue is the one stamped on its
// frames.
func TestAdv2ConcatenatedHeaderChecked(t *testing.T) {
	part1 := encode(t, false, recorder.Line{Time: 1, Conn: 1, Seq: 1, Text: "a"})
	for _, bad := range []string{
		`{"format":"meltica.recording","version":2,"venue":"kraken","t":0}`,
		`{"format":"other.recording","version":1,"venue":"kraken","t":0}`,
	} {
		data := append(bytes.Clone(part1), bad+"\n"+`{"t":2,"conn":1,"seq":2,"text":"b"}`+"\n"...)
		r, err := recorder.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		l, err := r.Next()
		require.NoError(t, err)
		assert.Equal(t, "a", l.Text)
		_, err = r.Next()
		require.ErrorIs(t, err, recorder.ErrFormat, "a part headed %s", bad)
		require.NoError(t, r.Close())
	}

	var b bytes.Buffer
	w, err := recorder.NewWriter(&b, false)
	require.NoError(t, err)
	require.NoError(t, w.WriteHeader(recorder.Line{Venue: "kraken", Part: 1}))
	require.NoError(t, w.Write(&recorder.Line{Time: 1, Conn: 1, Seq: 1, Text: "a"}))
	require.NoError(t, w.WriteHeader(recorder.Line{Venue: "okx", Part: 2}))
	require.NoError(t, w.Write(&recorder.Line{Time: 2, Conn: 1, Seq: 1, Text: "b"}))
	require.NoError(t, w.Close())
	r, err := recorder.NewReader(&b)
	require.NoError(t, err)
	defer r.Close()
	var venues []schema.Venue
	_, err = recorder.Replay(context.Background(), r, func(_ context.Context, fr *schema.WsFrame) error {
		venues = append(venues, fr.Provider)
		return nil
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, []schema.Venue{"kraken", "okx"}, venues, "each part's frames carry its own header's venue")
}

// syncFile is a recording file that says which of Write, Sync and Close it
// was asked for, in order.
type syncFile struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	calls   []string
	syncErr error
}

func (f *syncFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.calls); n == 0 || f.calls[n-1] != "write" {
		f.calls = append(f.calls, "write")
	}
	return f.buf.Write(p)
}

func (f *syncFile) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "sync")
	return f.syncErr
}

func (f *syncFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "close")
	return nil
}

// Close is durable: every file the recorder finishes (rotated or last) is
// fsynced after its last write and before it is closed, so a recording
// Close reported written survives a power cut; a failed fsync is Close's
// error.
func TestAdv2CloseSyncsEveryFile(t *testing.T) {
	var mu sync.Mutex
	var files []*syncFile
	rec, err := recorder.New("s.jsonl.zst", &recorder.Options{
		Compress: true, MaxFileBytes: 300,
		Create: func(string) (io.WriteCloser, error) {
			f := &syncFile{}
			mu.Lock()
			files = append(files, f)
			mu.Unlock()
			return f, nil
		},
	})
	require.NoError(t, err)
	for i := range 20 {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: int64(i + 1), Data: []byte(`{"e":"trade","p":"1.0"}`)}))
	}
	require.NoError(t, rec.Close())
	require.Greater(t, len(files), 1, "the recording rotated")
	for i, f := range files {
		assert.Equal(t, []string{"write", "sync", "close"}, f.calls, "file %d", i+1)
	}

	failing := &syncFile{syncErr: errors.New("EIO")}
	rec, err = recorder.New("t.jsonl", &recorder.Options{Create: func(string) (io.WriteCloser, error) { return failing, nil }})
	require.NoError(t, err)
	rec.Record(&schema.WsFrame{ConnID: 1, Seq: 1, Data: []byte("x")})
	require.ErrorContains(t, rec.Close(), "EIO", "a failed fsync is Close's error")
}

// A recording being written while a Reader reads it (tail -f): lines
// appended after Next returned io.EOF come on the next calls; a line the
// writer has only half written yet is reported (ErrFormat and
// io.ErrUnexpectedEOF: a recording cut there is cut mid-line) and kept, so
// that once the writer finishes it the next Next returns it whole — the
// tailer loses nothing and never sees half a frame.
func TestAdv2TailWhileAppended(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tail.jsonl")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	w, err := recorder.NewWriter(f, false)
	require.NoError(t, err)
	require.NoError(t, w.WriteHeader(recorder.Line{Venue: "kraken"}))
	require.NoError(t, w.Write(&recorder.Line{Time: 1, Conn: 1, Seq: 1, Text: `{"a":1}`}))
	require.NoError(t, w.Flush())

	r, err := recorder.Open(path)
	require.NoError(t, err)
	defer r.Close()
	l, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, uint64(1), l.Seq)
	_, err = r.Next()
	require.ErrorIs(t, err, io.EOF)

	// Complete lines appended after the end.
	require.NoError(t, w.Write(&recorder.Line{Time: 2, Conn: 1, Seq: 2, Text: `{"a":2}`}))
	require.NoError(t, w.Flush())
	l, err = r.Next()
	require.NoError(t, err)
	assert.Equal(t, uint64(2), l.Seq)
	_, err = r.Next()
	require.ErrorIs(t, err, io.EOF)

	// A line written in pieces, each piece seen by the reader.
	var line bytes.Buffer
	lw, err := recorder.NewWriter(&line, false)
	require.NoError(t, err)
	require.NoError(t, lw.Write(&recorder.Line{Time: 3, Conn: 1, Seq: 3, Text: `{"e":"book","a":[["1.5","2"]]}`}))
	require.NoError(t, lw.Close())
	raw := line.Bytes()
	for _, cut := range []int{1, len(raw) / 2, len(raw) - 2} {
		_, err = f.Write(raw[:cut])
		require.NoError(t, err)
		_, err = r.Next()
		require.ErrorIs(t, err, recorder.ErrFormat, "cut at %d", cut)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut at %d: the reader says the line is not whole yet", cut)
		raw = raw[cut:]
		// The rest of the line comes in the next write.
		_, err = f.Write(raw)
		require.NoError(t, err)
		l, err = r.Next()
		require.NoError(t, err, "cut at %d", cut)
		assert.Equal(t, `{"e":"book","a":[["1.5","2"]]}`, l.Text, "cut at %d: the whole line", cut)
		raw = line.Bytes()
	}
	// A whole object whose newline is not written yet is a line; the
	// newline, when it comes, adds nothing.
	_, err = f.Write(raw[:len(raw)-1])
	require.NoError(t, err)
	l, err = r.Next()
	require.NoError(t, err)
	assert.Equal(t, uint64(3), l.Seq)
	_, err = f.Write([]byte("\n"))
	require.NoError(t, err)
	_, err = r.Next()
	require.ErrorIs(t, err, io.EOF)
}

// A recording whose last line is torn for good (a recorder killed
// mid-line) says so once, then ends: a caller that goes on past errors is
// not held on it forever, and a next part is read.
func TestAdv2TornLineReportedOnce(t *testing.T) {
	dir := t.TempDir()
	whole := encode(t, false, recorder.Line{Time: 1, Conn: 1, Seq: 1, Text: "a"}, recorder.Line{Time: 2, Conn: 1, Seq: 2, Text: "b"})
	torn := filepath.Join(dir, "torn.jsonl")
	writeFile(t, torn, whole[:len(whole)-5])
	next := filepath.Join(dir, "next.jsonl")
	writeFile(t, next, encode(t, false, recorder.Line{Time: 3, Conn: 2, Seq: 1, Text: "c"}))

	r, err := recorder.Open(torn, next)
	require.NoError(t, err)
	defer r.Close()
	var got []string
	var errs []error
	for range 20 { // a loop that skips bad lines
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, l.Text)
	}
	assert.Equal(t, []string{"a", "c"}, got, "the whole lines of both parts")
	require.Len(t, errs, 1, "the torn line is reported once: %v", errs)
	assert.ErrorIs(t, errs[0], recorder.ErrFormat)
	assert.ErrorIs(t, errs[0], io.ErrUnexpectedEOF)
}

// A corrupt or hostile file holding a huge line (twice MaxLine with no
// newline, compressed to a few KiB) is refused once MaxLine is passed: the
// reader's memory stays bounded by a small multiple of MaxLine, never the
// size the file claims.
func TestAdv2HugeLineBoundedMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("reads MaxLine bytes (runs without -race: CI's coverage step, with -short)")
	}
	var z bytes.Buffer
	zw, err := zstd.NewWriter(&z, zstd.WithEncoderLevel(zstd.SpeedFastest))
	require.NoError(t, err)
	_, err = io.WriteString(zw, `{"format":"meltica.recording","version":1,"t":0}`+"\n"+`{"t":1,"text":"`)
	require.NoError(t, err)
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for range 2 * recorder.MaxLine >> 20 { // twice MaxLine of text, never ending
		_, err = zw.Write(chunk)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.Less(t, z.Len(), 1<<20, "the bomb is small")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := recorder.NewReader(bytes.NewReader(z.Bytes()))
	require.NoError(t, err)
	_, err = r.Next()
	require.ErrorIs(t, err, recorder.ErrFormat)
	assert.Contains(t, err.Error(), "longer than")
	require.NoError(t, r.Close())
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d MiB reading a %d MiB line", allocated>>20, 2*recorder.MaxLine>>20)
	assert.Less(t, allocated, uint64(8*recorder.MaxLine), "memory bounded by MaxLine, not by the file's claim")
}

// A paced replay waits on the injected clock exactly the recorded gaps
// divided by the speed, measured from the first frame (no drift however
// long the handler takes), and a recorded pause (a gap of minutes) is
// waited out in one sleep of the divided length, not skipped nor
// shortened.
func TestAdv2PacedSpeedsAndPauses(t *testing.T) {
	times := []int64{1e9, 1e9 + 100e6, 1e9 + 100e6, 1e9 + 300e6, 1e9 + 300e6 + 10*60e9, 1e9 + 300e6 + 10*60e9 + 1}
	var lines []recorder.Line
	for i, ts := range times {
		lines = append(lines, recorder.Line{Time: ts, Conn: 1, Seq: uint64(i + 1), Text: "x"})
	}
	lines = append(lines[:2], append([]recorder.Line{{Time: 5e18, Conn: 1, Out: true, Text: "sub"}}, lines[2:]...)...)
	data := encode(t, false, lines...)
	for _, speed := range []float64{1, 2, 0.5, 1000} {
		r, err := recorder.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		clock := &workClock{now: time.Unix(0, 0)}
		var at []time.Duration
		st, err := recorder.Replay(context.Background(), r, func(context.Context, *schema.WsFrame) error {
			at = append(at, clock.now.Sub(time.Unix(0, 0)))
			clock.now = clock.now.Add(7 * time.Millisecond) // the handler's own time
			return nil
		}, &recorder.ReplayOptions{Paced: true, Speed: speed, Clock: clock})
		require.NoError(t, err)
		require.NoError(t, r.Close())
		assert.Equal(t, uint64(len(times)), st.Frames)
		assert.Equal(t, uint64(1), st.Sent, "a sent message is skipped, and its time is not waited for")
		for i, ts := range times {
			due := time.Duration(float64(ts-times[0]) / speed)
			// Handed over when due, or right after the previous frame's
			// handler when that took longer than the gap.
			want := due
			if i > 0 && at[i-1]+7*time.Millisecond > due {
				want = at[i-1] + 7*time.Millisecond
			}
			assert.Equal(t, want, at[i], "speed %v frame %d", speed, i)
		}
	}
}

// workClock advances by exactly what it is asked to sleep.
type workClock struct{ now time.Time }

func (c *workClock) Now() time.Time { return c.now }
func (c *workClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.now = c.now.Add(d)
	return nil
}

// Every real session in ../shared/recordings (cryptofeed's, converted
// frame for frame), recorded through a Recorder's Tap as a live client
// would and replayed from the file, plain and zstd, gives the parser the
// same frames, hence the same canonical events, one for one, as the live
// parse of the same frames did.
func TestAdv2SharedRecordingsReplayAsLive(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "recordings")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/recordings not present")
	}
	type newParser func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink) func(context.Context, *schema.WsFrame) error
	venues := map[string]struct {
		venue schema.Venue
		parse newParser
	}{
		"KRAKEN.ws.50.0": {schema.VenueKraken, func(p *pool.Pool[*schema.CanonicalEvent], s normalize.Sink) func(context.Context, *schema.WsFrame) error {
			return normalize.NewKraken(p, s, nil).HandleFrame
		}},
		"BINANCE.ws.1.0": {schema.VenueBinance, func(p *pool.Pool[*schema.CanonicalEvent], s normalize.Sink) func(context.Context, *schema.WsFrame) error {
			return normalize.NewBinance(p, s, nil).HandleFrame
		}},
		"COINBASE.ws.28.0.gz": {schema.VenueCoinbase, func(p *pool.Pool[*schema.CanonicalEvent], s normalize.Sink) func(context.Context, *schema.WsFrame) error {
			return normalize.NewCoinbase(p, s, nil).HandleFrame
		}},
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	seen := 0
	for _, e := range entries {
		if !strings.Contains(e.Name(), ".ws.") {
			continue // REST answers and the README: no WebSocket frames
		}
		v, ok := venues[e.Name()]
		require.True(t, ok, "a new shared recording %s: add its venue here", e.Name())
		seen++
		for _, compress := range []bool{false, true} {
			if raceEnabled && !compress {
				continue // the slow detector: one format is enough (both are read alike)
			}
			t.Run(e.Name()+map[bool]string{false: "/plain", true: "/zstd"}[compress], func(t *testing.T) {
				livePools := schema.NewPools(nil)
				live := &collect{events: livePools.Events}
				parse := v.parse(livePools.Events, live)
				path := filepath.Join(t.TempDir(), "session.jsonl")
				// A queue that holds the whole recording (none dropped, as
				// the frames come faster than the disk takes them), with
				// slots of 256 bytes to start with, not 4 KiB: 16 MiB, not
				// 256 MiB, which cost the race detector's shadow memory
				// more than the test itself (218 s of the package's 507 s
				// under -race at load 22 for Coinbase's recording alone).
				rec, err := recorder.New(path, &recorder.Options{Venue: v.venue, Compress: compress, Queue: 1 << 16, FrameBytes: 256})
				require.NoError(t, err)
				tap := rec.Tap(parse)
				fr := &schema.WsFrame{}
				var in, out uint64
				_, err = cryptofeed.ReadFile(filepath.Join(dir, e.Name()), func(_ *cryptofeed.Session, l *recorder.Line) error {
					msg := l.Bin
					if msg == nil {
						msg = []byte(l.Text)
					}
					if l.Out {
						out++
						require.True(t, rec.RecordSent(l.Conn, l.Time, msg))
						return nil
					}
					in++
					*fr = schema.WsFrame{Provider: v.venue, ConnID: l.Conn, Seq: l.Seq, ReceivedAt: l.Time, Binary: l.Binary, Data: append(fr.Data[:0], msg...)}
					_ = tap(context.Background(), fr) // parse errors are part of the comparison
					return nil
				})
				require.NoError(t, err)
				require.NoError(t, rec.Close())
				st := rec.Stats()
				require.Zero(t, st.Dropped)
				require.Equal(t, in+out, st.Written)

				replayPools := schema.NewPools(nil)
				again := &collect{events: replayPools.Events}
				r, err := recorder.Open(rec.Files()...)
				require.NoError(t, err)
				defer r.Close()
				rst, err := recorder.Replay(context.Background(), r, v.parse(replayPools.Events, again), nil)
				require.NoError(t, err)
				assert.Equal(t, in, rst.Frames)
				assert.Equal(t, out, rst.Sent)
				require.Equal(t, len(live.got), len(again.got))
				require.Positive(t, len(live.got))
				for i := range live.got {
					require.Equal(t, live.got[i], again.got[i], "event %d", i)
				}
				for _, p := range []*schema.Pools{livePools, replayPools} {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					require.NoError(t, p.Shutdown(ctx))
					cancel()
				}
			})
		}
	}
	assert.Equal(t, len(venues), seen)
}

// A queue slot does not keep a large frame's buffer for the life of the
// recorder: after 128 frames of 1 MiB have been written (each in a slot
// of its own), the recorder holds about Queue × FrameBytes again, not
// 128 MiB — a long-running recorder that now and then sees a big snapshot
// would otherwise end up holding Queue × the largest frame.
func TestAdv2LargeFramesNotKeptBySlots(t *testing.T) {
	if raceEnabled {
		t.Skip("heap measurement: not with -race")
	}
	rec, err := recorder.New("discard", &recorder.Options{
		Queue: 128, FlushInterval: time.Millisecond,
		Create: func(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil },
	})
	require.NoError(t, err)
	defer rec.Close()
	big := bytes.Repeat([]byte{0xff}, 1<<20) // binary: written as base64
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 128 {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), Binary: true, Data: big}))
		// One at a time, so every frame lands in a slot of its own.
		require.Eventually(t, func() bool { return rec.Stats().Written == uint64(i+1) }, 30*time.Second, time.Millisecond)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap held after 128 frames of 1 MiB: %d MiB", held>>20)
	assert.Less(t, held, int64(16<<20), "the slots gave the large buffers back")
}
