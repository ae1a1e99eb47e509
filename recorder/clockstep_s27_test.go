package recorder_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// recordAt records one frame at each receive time (ns after base), all on
// one connection.
func recordAt(t *testing.T, at ...int64) string {
	t.Helper()
	return recordOn(t, make([]uint64, len(at)), at...)
}

// recordOn records one frame at each receive time (ns after base), on
// connection conns[i]+1.
func recordOn(t *testing.T, conns []uint64, at ...int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "steps.jsonl")
	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueKraken})
	require.NoError(t, err)
	base := int64(1_618_678_132_000_000_000)
	for i, a := range at {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: conns[i] + 1, Seq: uint64(i + 1), ReceivedAt: base + a, Data: []byte(`{"event":"heartbeat"}`)}))
	}
	require.NoError(t, rec.Close())
	return path
}

func pacedWaits(t *testing.T, path string, opts recorder.ReplayOptions) []time.Duration {
	t.Helper()
	r, err := recorder.Open(path)
	require.NoError(t, err)
	defer r.Close()
	clock := &fakeClock{now: time.Unix(1, 0)}
	opts.Paced, opts.Clock = true, clock
	st, err := recorder.Replay(context.Background(), r, func(context.Context, *schema.WsFrame) error { return nil }, &opts)
	require.NoError(t, err)
	require.EqualValues(t, 5, st.Frames)
	return clock.waits
}

// A recording's receive times are the wall clock's (Unix ns), which NTP
// or an operator may step while it records. A paced replay kept every
// frame at its offset from the first: after a step back of an hour every
// later frame was overdue, and the rest of the recording went out
// unpaced, as fast as the handler took it. A gap is now the time since
// the frame before, and a negative one is no wait: the frames after the
// step keep their pace.
func TestS27PacedReplayAcrossAClockStepBack(t *testing.T) {
	ms, h := int64(time.Millisecond), int64(time.Hour)
	path := recordAt(t, 0, 10*ms, 20*ms-h, 30*ms-h, 50*ms-h)
	assert.Equal(t, []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}, pacedWaits(t, path, recorder.ReplayOptions{}))
	assert.Equal(t, []time.Duration{5 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond}, pacedWaits(t, path, recorder.ReplayOptions{Speed: 2}))
}

// Connections sharing a recorder interleave: a frame stamped before the
// latest but not before its own connection's last goes at once, and the
// frames after it are paced from the latest, not from it, however late
// its reader was. (s27rvcli's case: a step rule on the lateness alone,
// "more than 128 ms behind the latest", played connection 0's frame at
// 310 ms at 460 ms and every later frame 150 ms late.)
func TestS27PacedReplayInterleavedConnections(t *testing.T) {
	ms := int64(time.Millisecond)
	path := recordOn(t, []uint64{0, 0, 1, 0, 0}, 0, 10*ms, 5*ms, 20*ms, 30*ms)
	assert.Equal(t, []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}, pacedWaits(t, path, recorder.ReplayOptions{}))
	path = recordOn(t, []uint64{0, 0, 1, 0, 0}, 0, 300*ms, 150*ms, 310*ms, 320*ms)
	assert.Equal(t, []time.Duration{300 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}, pacedWaits(t, path, recorder.ReplayOptions{}))
	path = recordOn(t, []uint64{0, 0, 1, 1, 0}, 0, 300*ms, 150*ms, 160*ms, 310*ms)
	assert.Equal(t, []time.Duration{300 * time.Millisecond, 10 * time.Millisecond}, pacedWaits(t, path, recorder.ReplayOptions{}), "a late reader's burst moves nothing")
}

// A step back is seen on the connection it happens to, whatever its size,
// and the other connections' frames after it are paced from it.
func TestS27PacedReplayStepSeenPerConnection(t *testing.T) {
	ms := int64(time.Millisecond)
	path := recordOn(t, []uint64{0, 1, 0, 0, 1}, 0, 10*ms, 100*ms, 50*ms, 60*ms)
	assert.Equal(t, []time.Duration{10 * time.Millisecond, 90 * time.Millisecond, 10 * time.Millisecond}, pacedWaits(t, path, recorder.ReplayOptions{}))
}

// A step forward looks like a long silence; ReplayOptions.MaxGap takes
// any gap longer than it as MaxGap (0: none, the recorded gap is kept).
func TestS27PacedReplayMaxGap(t *testing.T) {
	ms, h := int64(time.Millisecond), int64(time.Hour)
	path := recordAt(t, 0, 10*ms, 10*ms+h, 20*ms+h, 30*ms+h)
	assert.Equal(t, []time.Duration{10 * time.Millisecond, time.Hour, 10 * time.Millisecond, 10 * time.Millisecond}, pacedWaits(t, path, recorder.ReplayOptions{}))
	assert.Equal(t, []time.Duration{10 * time.Millisecond, time.Second, 10 * time.Millisecond, 10 * time.Millisecond}, pacedWaits(t, path, recorder.ReplayOptions{MaxGap: time.Second}))
}
