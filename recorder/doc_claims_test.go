package recorder_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// The tests in this file hold the package documentation (go doc -all
// ./recorder) to its concrete statements, through the public API.

// "Files may be zstd-compressed and rotate by size (Options.MaxFileBytes):
// session.jsonl.zst becomes session-000001.jsonl.zst,
// session-000002.jsonl.zst, … each with its own header. [Open] reads the
// parts in order, compressed or not (it looks at the first bytes)." Text
// messages that are valid UTF-8 come back byte for byte; anything else is
// base64 and comes back too.
func TestDocRotatedRecordingRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "session.jsonl.zst")
	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueBinance, URL: "wss://stream.binance.com/ws", Compress: true, MaxFileBytes: 200})
	require.NoError(t, err)
	msgs := [][]byte{
		[]byte(`{"e":"trade","s":"BTCUSDT","t":1,"p":"67000.00000000"}`),
		[]byte("\"caf\xc3\xa9\" \u2028 and a tab\t"),
		{0xff, 0xfe, 0x00, 0x01}, // not UTF-8: base64
		[]byte(`{"e":"trade","s":"BTCUSDT","t":2,"p":"67000.01000000"}`),
		[]byte(`{"e":"trade","s":"BTCUSDT","t":3,"p":"67000.02000000"}`),
	}
	for i, m := range msgs {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: int64(1000 + i), Binary: i == 2, Data: m}))
	}
	require.NoError(t, rec.Close())

	files := rec.Files()
	require.GreaterOrEqual(t, len(files), 2, "200 bytes a file rotates")
	for i, f := range files {
		assert.Equal(t, filepath.Join(dir, "session-00000"+string(rune('1'+i))+".jsonl.zst"), f, "part %d", i+1)
		_, err := os.Stat(f)
		require.NoError(t, err)
	}
	_, err = os.Stat(path)
	assert.True(t, os.IsNotExist(err), "a rotated recording has no file named path itself")

	r, err := recorder.Open(files...)
	require.NoError(t, err)
	defer r.Close()
	h := r.Header()
	assert.Equal(t, recorder.FormatName, h.Format)
	assert.Equal(t, recorder.FormatVersion, h.Version)
	assert.Equal(t, 1, h.Part, "parts count from 1")
	assert.Equal(t, "binance", h.Venue)

	var got [][]byte
	var bins []bool
	st, err := recorder.Replay(context.Background(), r, func(_ context.Context, f *schema.WsFrame) error {
		got = append(got, append([]byte(nil), f.Data...))
		bins = append(bins, f.Binary)
		assert.Equal(t, schema.VenueBinance, f.Provider, "the header's venue by default")
		return nil
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, uint64(len(msgs)), st.Frames)
	assert.Equal(t, msgs, got, "every message byte for byte, across the parts")
	assert.Equal(t, []bool{false, false, true, false, false}, bins)
}

// "New opens the first file [...] The directory must exist"; Close "returns
// [...] ErrClosed when called again"; Record "returns false when [...] the
// recorder is closed"; "Readers and Replay [...] start none" (goleak in
// TestMain checks that the recorder's own goroutine is gone).
func TestDocRecorderLifecycle(t *testing.T) {
	_, err := recorder.New(filepath.Join(t.TempDir(), "missing", "r.jsonl"), nil)
	require.Error(t, err, "the directory must exist")

	rec, err := recorder.New(filepath.Join(t.TempDir(), "r.jsonl"), nil)
	require.NoError(t, err)
	require.NoError(t, rec.Close())
	assert.ErrorIs(t, rec.Close(), recorder.ErrClosed)
	assert.False(t, rec.Record(&schema.WsFrame{ConnID: 1, Data: []byte("x")}))
	assert.Equal(t, 1, rec.Stats().Files)
}

// "Tap returns a handler that records each frame, then calls next (when
// not nil) and returns its error."
func TestDocTapCallsNextAndReturnsItsError(t *testing.T) {
	rec, err := recorder.New(filepath.Join(t.TempDir(), "r.jsonl"), nil)
	require.NoError(t, err)
	boom := assert.AnError
	calls := 0
	tap := rec.Tap(func(context.Context, *schema.WsFrame) error { calls++; return boom })
	assert.ErrorIs(t, tap(context.Background(), &schema.WsFrame{ConnID: 1, Data: []byte("x")}), boom)
	assert.Equal(t, 1, calls)
	require.NoError(t, rec.Close())
	assert.Equal(t, uint64(1), rec.Stats().Frames, "recorded before next ran")
	assert.Equal(t, uint64(1), rec.Stats().Written)
}

// README: the tap "allocates nothing per frame up to 64 KiB" (doc.go: a
// slot keeps up to 64 KiB or Options.FrameBytes). Frames of 64 KiB, text
// with quotes the line escapes and binary, once every slot has carried
// one: recording each allocates nothing, written and all.
func TestDocRecordZeroAllocsAt64KiB(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not with -race")
	}
	const queue = 8
	rec, err := recorder.New("discard", &recorder.Options{
		Queue: queue, FlushInterval: time.Millisecond,
		Create: func(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil },
	})
	require.NoError(t, err)
	defer rec.Close()
	text := bytes.Repeat([]byte(`{"p":"1.5"},`), (64<<10)/12)
	text = append(text, bytes.Repeat([]byte(" "), 64<<10-len(text))...)
	require.Len(t, text, 64<<10)
	bin := bytes.Repeat([]byte{0xff, 0x00}, 32<<10)
	ctx := context.Background()
	h := rec.Tap(nil)
	for _, fr := range []*schema.WsFrame{{ConnID: 1, Data: text}, {ConnID: 1, Binary: true, Data: bin}} {
		written := rec.Stats().Written
		for range 4 * queue { // every slot carries one, the encoder warms up
			require.NoError(t, h(ctx, fr))
			written++
			require.Eventually(t, func() bool { return rec.Stats().Written >= written }, 10*time.Second, time.Millisecond)
		}
		allocs := testing.AllocsPerRun(100, func() {
			_ = h(ctx, fr)
			written++
			for rec.Stats().Written < written {
				runtime.Gosched()
			}
		})
		assert.Zero(t, allocs, "binary %v", fr.Binary)
	}
	assert.Zero(t, rec.Stats().Dropped)
}
