package recorder_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// frames covers the kinds of message a recording must give back byte for
// byte: JSON with escapes and non-ASCII, binary, text that is not UTF-8,
// an empty message.
func frames() []*schema.WsFrame {
	msgs := []struct {
		data   string
		binary bool
	}{
		{`{"e":"trade","s":"BTCUSDT","p":"67000.10","q":"0.00100000"}`, false},
		{"{\"a\":\"x\\u0001é\\\"\",\"b\":\"<>&\"}\x00", false},
		{"\x28\xb5\x2f\xfd\x00\xff", true},
		{"not utf-8 \xff\xfe", false},
		{"", false},
	}
	out := make([]*schema.WsFrame, len(msgs))
	for i, m := range msgs {
		out[i] = &schema.WsFrame{Provider: schema.VenueBinance, ConnID: uint64(1 + i%2), Seq: uint64(i + 1),
			ReceivedAt: 1_700_000_000_123_456_789 + int64(i)*1_000_000, Binary: m.binary, Data: []byte(m.data)}
	}
	return out
}

func readAll(t *testing.T, files ...string) (recorder.Line, []recorder.Line) {
	t.Helper()
	r, err := recorder.Open(files...)
	require.NoError(t, err)
	defer r.Close()
	var got []recorder.Line
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		c := *l
		c.Bin = append([]byte(nil), l.Bin...)
		got = append(got, c)
	}
	return r.Header(), got
}

func message(l recorder.Line) []byte {
	if l.Bin != nil {
		return l.Bin
	}
	return []byte(l.Text)
}

func TestRecordReadBack(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "zstd"}[compress], func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.jsonl")
			rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueBinance, URL: "wss://example/stream", Compress: compress})
			require.NoError(t, err)
			in := frames()
			for _, f := range in {
				require.True(t, rec.Record(f))
			}
			require.True(t, rec.RecordSent(1, 1_700_000_000_000_000_000, []byte(`{"method":"SUBSCRIBE"}`)))
			require.NoError(t, rec.Close())
			require.ErrorIs(t, rec.Close(), recorder.ErrClosed)
			require.False(t, rec.Record(in[0]), "closed recorder takes nothing")

			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, compress, bytes.HasPrefix(raw, []byte{0x28, 0xb5, 0x2f, 0xfd}), "zstd magic")

			hdr, got := readAll(t, path)
			assert.Equal(t, recorder.FormatName, hdr.Format)
			assert.Equal(t, "binance", hdr.Venue)
			assert.Equal(t, "wss://example/stream", hdr.URL)
			require.Len(t, got, len(in)+1)
			for i, f := range in {
				l := got[i]
				assert.Equal(t, f.ReceivedAt, l.Time)
				assert.Equal(t, f.ConnID, l.Conn)
				assert.Equal(t, f.Seq, l.Seq)
				assert.Equal(t, f.Binary, l.Binary)
				assert.Equal(t, string(f.Data), string(message(l)), "frame %d byte for byte", i)
			}
			assert.True(t, got[len(in)].Out)
			st := rec.Stats()
			assert.Equal(t, uint64(len(in)+1), st.Frames)
			assert.Equal(t, uint64(len(in)+1), st.Written)
			assert.Zero(t, st.Dropped)
			assert.Equal(t, 1, st.Files)
		})
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	rec, err := recorder.New(filepath.Join(dir, "s.jsonl.zst"), &recorder.Options{
		Venue: schema.VenueKraken, Compress: true, MaxFileBytes: 600,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)
	const n = 40
	data := bytes.Repeat([]byte("x"), 100)
	for i := range n {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: int64(i + 1), Data: data}))
	}
	require.NoError(t, rec.Close())
	files := rec.Files()
	require.Greater(t, len(files), 4, "rotated")
	assert.Equal(t, filepath.Join(dir, "s-000001.jsonl.zst"), files[0])
	assert.Equal(t, filepath.Join(dir, "s-000002.jsonl.zst"), files[1])
	for i, f := range files {
		hdr, _ := readAll(t, f)
		assert.Equal(t, i+1, hdr.Part)
	}
	_, got := readAll(t, files...)
	require.Len(t, got, n)
	for i, l := range got {
		assert.Equal(t, uint64(i+1), l.Seq, "in order across files")
	}
	assert.Contains(t, logs.String(), "level=INFO msg=\"recording file rotated\" venue=kraken file=")
	assert.Equal(t, len(files), rec.Stats().Files)
}

// blockingFile stands for a disk that does not take writes until released.
type blockingFile struct {
	release chan struct{}
	entered chan struct{}
	once    sync.Once
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (b *blockingFile) Write(p []byte) (int, error) {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *blockingFile) Close() error { return nil }

// A slow disk costs frames, counted, never the reader's time: Record
// returns at once with the queue full, and the log says so once.
func TestSlowDiskDropsAndCounts(t *testing.T) {
	disk := &blockingFile{release: make(chan struct{}), entered: make(chan struct{})}
	var logs bytes.Buffer
	const queue = 8
	rec, err := recorder.New("slow.jsonl", &recorder.Options{
		Venue: schema.VenueBinance, Queue: queue, FrameBytes: 1 << 17,
		Create: func(string) (io.WriteCloser, error) { return disk, nil },
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)
	big := bytes.Repeat([]byte("a"), 100<<10) // past the writer's buffer: reaches the disk at once
	f := &schema.WsFrame{ConnID: 1, ReceivedAt: 1, Data: big}
	require.True(t, rec.Record(f))
	<-disk.entered // the writer is stuck on the disk, holding one slot
	accepted := 1
	for range 100 {
		if rec.Record(f) {
			accepted++
		}
	}
	assert.Equal(t, queue, accepted, "the queue holds what it can, the rest is dropped")
	st := rec.Stats()
	assert.Equal(t, uint64(101-queue), st.Dropped)
	close(disk.release)
	require.NoError(t, rec.Close())
	assert.Equal(t, uint64(queue), rec.Stats().Written)
	assert.Contains(t, logs.String(), `level=WARN msg="recorder dropped frames: the disk is slower than the stream" venue=binance dropped=93 total=93`)
	assert.Contains(t, logs.String(), `level=INFO msg="recording closed" venue=binance frames=8 dropped=93 files=1`)
	assert.Equal(t, queue+1, bytes.Count(disk.buf.Bytes(), []byte("\n")), "header and the frames kept")
}

// The tap's hot path — copy into a preallocated slot, queue, return —
// allocates nothing, and neither does the writer goroutine behind it. Each
// measured run waits until the writer has written its frame, so that every
// run counts one tap and one write, however the two goroutines are
// scheduled.
func TestRecordZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not with -race")
	}
	rec, err := recorder.New("discard", &recorder.Options{
		Queue: 4096,
		// Written counts flushed frames: each run below waits for a flush.
		FlushInterval: time.Millisecond,
		Create:        func(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil },
	})
	require.NoError(t, err)
	defer rec.Close()
	f := frames()[0]
	h := rec.Tap(func(context.Context, *schema.WsFrame) error { return nil })
	ctx := context.Background()
	for range 100 { // warm up: the encoder compiles the Line type once
		require.NoError(t, h(ctx, f))
	}
	require.Eventually(t, func() bool { return rec.Stats().Written == 100 }, 10*time.Second, time.Millisecond)
	written := rec.Stats().Written
	allocs := testing.AllocsPerRun(200, func() {
		_ = h(ctx, f)
		written++
		for rec.Stats().Written < written {
			runtime.Gosched()
		}
	})
	assert.Zero(t, allocs)
	assert.Zero(t, rec.Stats().Dropped)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func TestReaderRefusesOtherFiles(t *testing.T) {
	for name, content := range map[string]string{
		"empty":     "",
		"no header": `{"t":1,"conn":1,"text":"x"}` + "\n",
		"version":   `{"format":"meltica.recording","version":99,"t":0}` + "\n",
		"not json":  "hello\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := recorder.NewReader(bytes.NewReader([]byte(content)))
			require.ErrorIs(t, err, recorder.ErrFormat)
		})
	}
	r, err := recorder.NewReader(bytes.NewReader([]byte(`{"format":"meltica.recording","version":1,"t":0}` + "\n" + `{"t":1,"text":` + "\n")))
	require.NoError(t, err)
	_, err = r.Next()
	require.ErrorIs(t, err, recorder.ErrFormat)
	require.NoError(t, r.Close())
}

// Several clients may share one recorder: every frame is written once, and
// each connection's frames keep their order.
func TestConcurrentRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.jsonl")
	rec, err := recorder.New(path, &recorder.Options{Queue: 8192})
	require.NoError(t, err)
	const conns, per = 4, 500
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := &schema.WsFrame{ConnID: uint64(c + 1), Data: []byte(`{"x":1}`)}
			for i := range per {
				f.Seq, f.ReceivedAt = uint64(i+1), int64(i+1)
				require.True(t, rec.Record(f))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, rec.Close())
	_, got := readAll(t, path)
	require.Len(t, got, conns*per)
	last := map[uint64]uint64{}
	for _, l := range got {
		require.Equal(t, last[l.Conn]+1, l.Seq, "connection %d in order", l.Conn)
		last[l.Conn] = l.Seq
	}
}

// A file that cannot be opened at a rotation costs the frames that came
// meanwhile, counted; the recording goes on in the next file that opens.
func TestRotationOpenFailure(t *testing.T) {
	dir := t.TempDir()
	var opens int
	var logs bytes.Buffer
	rec, err := recorder.New(filepath.Join(dir, "s.jsonl"), &recorder.Options{
		MaxFileBytes: 1, FlushInterval: time.Microsecond, // flushes while no file is open too
		Create: func(name string) (io.WriteCloser, error) {
			opens++
			if opens == 2 || opens == 3 {
				return nil, errors.New("disk full")
			}
			return os.Create(name)
		},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)
	for i := range 4 {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: 1, Data: []byte("x")}))
	}
	err = rec.Close()
	require.ErrorContains(t, err, "disk full")
	st := rec.Stats()
	assert.Equal(t, uint64(1), st.WriteErrors, "frame 2 found no file")
	assert.Equal(t, uint64(3), st.Written)
	_, got := readAll(t, rec.Files()...)
	require.Len(t, got, 3)
	assert.Equal(t, []uint64{1, 3, 4}, []uint64{got[0].Seq, got[1].Seq, got[2].Seq})
	assert.Contains(t, logs.String(), `level=WARN msg="recording write failed" venue="" err="recorder: disk full"`)
}
