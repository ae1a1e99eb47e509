package recorder_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// encode writes a recording of frames (plain or zstd) to memory.
func encode(t testing.TB, compress bool, lines ...recorder.Line) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := recorder.NewWriter(&b, compress)
	require.NoError(t, err)
	require.NoError(t, w.WriteHeader(recorder.Line{Venue: "kraken", URL: "wss://ws.kraken.com"}))
	for i := range lines {
		require.NoError(t, w.Write(&lines[i]))
		require.NoError(t, w.Flush()) // one zstd block a line: truncation hits every kind of place
	}
	require.NoError(t, w.Close())
	return b.Bytes()
}

// A recording cut at any byte (a recorder killed mid-write) reads back a
// prefix of its frames, in order, then ends with io.EOF or an error
// wrapping ErrFormat — never a panic, never a frame that was not recorded.
func TestAdvTruncatedAtEveryByte(t *testing.T) {
	var lines []recorder.Line
	for i := range 6 {
		lines = append(lines, recorder.Line{Time: int64(1e9 + i), Conn: 1, Seq: uint64(i + 1), Text: `{"event":"heartbeat"}`})
	}
	lines = append(lines, recorder.Line{Time: 2e9, Conn: 2, Seq: 1, Binary: true, Bin: []byte{0, 0xff, 1}})
	for _, compress := range []bool{false, true} {
		full := encode(t, compress, lines...)
		for cut := 0; cut < len(full); cut++ {
			r, err := recorder.NewReader(bytes.NewReader(full[:cut]))
			if err != nil {
				require.ErrorIs(t, err, recorder.ErrFormat, "compress %v cut %d", compress, cut)
				continue
			}
			n := 0
			for {
				l, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					require.ErrorIs(t, err, recorder.ErrFormat, "compress %v cut %d: a cut recording is a format error", compress, cut)
					break
				}
				require.Less(t, n, len(lines))
				assert.Equal(t, lines[n].Seq, l.Seq)
				assert.Equal(t, lines[n].Text, l.Text)
				n++
			}
			require.NoError(t, r.Close())
		}
	}
}

// Bytes flipped anywhere in a zstd recording: an error (typed), or frames;
// never a panic.
func TestAdvCorruptZstd(t *testing.T) {
	full := encode(t, true, recorder.Line{Time: 1, Conn: 1, Seq: 1, Text: `{"a":1}`}, recorder.Line{Time: 2, Conn: 1, Seq: 2, Text: `{"a":2}`})
	for i := range full {
		bad := bytes.Clone(full)
		bad[i] ^= 0x5a
		r, err := recorder.NewReader(bytes.NewReader(bad))
		if err != nil {
			continue
		}
		for range 10 {
			if _, err := r.Next(); err != nil {
				break
			}
		}
		r.Close()
	}
}

// Parts: a missing part, a part that is not a recording, and a part with
// only its header.
func TestAdvBadParts(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a.jsonl")
	writeFile(t, good, encode(t, false, recorder.Line{Time: 1, Conn: 1, Seq: 1, Text: "x"}))
	empty := filepath.Join(dir, "b.jsonl")
	writeFile(t, empty, encode(t, true))
	garbage := filepath.Join(dir, "c.jsonl")
	writeFile(t, garbage, []byte("PK\x03\x04 not a recording\n"))

	_, got := readAll(t, good, empty, good)
	assert.Len(t, got, 2, "a header-only part is skipped")

	r, err := recorder.Open(good, filepath.Join(dir, "missing"))
	require.NoError(t, err)
	_, err = r.Next()
	require.NoError(t, err)
	_, err = r.Next()
	require.ErrorIs(t, err, fsNotExist)
	require.NoError(t, r.Close())

	r, err = recorder.Open(good, garbage)
	require.NoError(t, err)
	_, _ = r.Next()
	_, err = r.Next()
	require.ErrorIs(t, err, recorder.ErrFormat)
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close twice")
}

// blockingClock blocks in Sleep until ctx ends, and counts the sleeps.
type blockingClock struct {
	now    time.Time
	asleep chan time.Duration
}

func (c *blockingClock) Now() time.Time { return c.now }
func (c *blockingClock) Sleep(ctx context.Context, d time.Duration) error {
	c.asleep <- d
	<-ctx.Done()
	return ctx.Err()
}

func paced(t *testing.T, speed float64, times ...int64) ([]time.Duration, []int64, error) {
	t.Helper()
	var lines []recorder.Line
	for i, at := range times {
		lines = append(lines, recorder.Line{Time: at, Conn: 1, Seq: uint64(i + 1), Text: "x"})
	}
	r, err := recorder.NewReader(bytes.NewReader(encode(t, false, lines...)))
	require.NoError(t, err)
	defer r.Close()
	clock := &fakeClock{now: time.Unix(1000, 0)}
	var seen []int64
	_, err = recorder.Replay(context.Background(), r, func(_ context.Context, f *schema.WsFrame) error {
		seen = append(seen, f.ReceivedAt)
		return nil
	}, &recorder.ReplayOptions{Paced: true, Speed: speed, Clock: clock})
	return clock.waits, seen, err
}

// At the recorded pace on an injected clock: lines out of time order are
// handed over at once and in file order (never reordered, never waited
// for), huge gaps are waited in full on the clock, and a first frame
// stamped 0 is a start like any other.
func TestAdvPacedOddTimes(t *testing.T) {
	const s = int64(time.Second)
	base := int64(1_700_000_000) * s

	waits, seen, err := paced(t, 1, base+5*s, base+2*s, base+6*s, base+1*s, base+7*s)
	require.NoError(t, err)
	assert.Equal(t, []int64{base + 5*s, base + 2*s, base + 6*s, base + 1*s, base + 7*s}, seen, "file order")
	// Times 3 s and 5 s behind the one before on the same connection
	// are the wall clock stepped back: the pace goes on from each
	// (TestS27PacedReplayAcrossAClockStepBack).
	assert.Equal(t, []time.Duration{4 * time.Second, 6 * time.Second}, waits, "the pace goes on from each step back")

	waits, _, err = paced(t, 1, base, base+30*24*3600*s, base+30*24*3600*s+1)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{30 * 24 * time.Hour, 1}, waits, "a month's gap is waited on the clock")

	waits, _, err = paced(t, 1, 0, s, 2*s)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Second, time.Second}, waits, "first frame at t=0")

	waits, _, err = paced(t, 1, base, math.MinInt64, -base, math.MaxInt64)
	require.NoError(t, err)
	// MinInt64 is a step back; from it, -base is far ahead and MaxInt64
	// further: both waited, neither wrapped.
	require.Len(t, waits, 2)
	for _, w := range waits {
		assert.Positive(t, w, "garbage times never make a wrapped wait")
	}
}

// Speed that is not a positive finite number is the default, 1.
func TestAdvPacedBadSpeed(t *testing.T) {
	base := int64(1_700_000_000e9)
	for _, speed := range []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		waits, seen, err := paced(t, speed, base, base+int64(time.Second))
		require.NoError(t, err)
		assert.Len(t, seen, 2)
		assert.Equal(t, []time.Duration{time.Second}, waits, "speed %v is 1", speed)
	}
	waits, _, err := paced(t, math.SmallestNonzeroFloat64, base, base+int64(time.Second))
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{math.MaxInt64}, waits, "a tiny speed waits the longest Duration, not a wrapped one")
}

// Cancelling a paced replay while it waits a long gap returns at once
// with ctx's error.
func TestAdvPacedCancelDuringGap(t *testing.T) {
	r, err := recorder.NewReader(bytes.NewReader(encode(t, false,
		recorder.Line{Time: 1e9, Conn: 1, Seq: 1, Text: "a"}, recorder.Line{Time: 1e9 + int64(time.Hour), Conn: 1, Seq: 2, Text: "b"})))
	require.NoError(t, err)
	defer r.Close()
	clock := &blockingClock{now: time.Unix(0, 0), asleep: make(chan time.Duration, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var frames int
	go func() {
		_, err := recorder.Replay(ctx, r, func(context.Context, *schema.WsFrame) error { frames++; return nil },
			&recorder.ReplayOptions{Paced: true, Clock: clock})
		done <- err
	}()
	assert.Equal(t, time.Hour, <-clock.asleep)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.Equal(t, 1, frames)
}

// Several connections in one recording: the replay keeps each frame's
// connection id and sequence, interleaved as recorded.
func TestAdvReplaySeveralConnections(t *testing.T) {
	var lines []recorder.Line
	for i := range 30 {
		lines = append(lines, recorder.Line{Time: int64(i), Conn: uint64(i%3 + 1), Seq: uint64(i/3 + 1), Text: "m"})
	}
	lines = append(lines, recorder.Line{Time: 99, Conn: 2, Out: true, Text: "sub"})
	r, err := recorder.NewReader(bytes.NewReader(encode(t, true, lines...)))
	require.NoError(t, err)
	defer r.Close()
	var got [][2]uint64
	st, err := recorder.Replay(context.Background(), r, func(_ context.Context, f *schema.WsFrame) error {
		got = append(got, [2]uint64{f.ConnID, f.Seq})
		return nil
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), st.Sent)
	require.Len(t, got, 30)
	for i, g := range got {
		assert.Equal(t, [2]uint64{uint64(i%3 + 1), uint64(i/3 + 1)}, g)
	}
}

var fsNotExist = fs.ErrNotExist

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, data, 0o600))
}
