package venuesim_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
)

// blockClock blocks every Sleep until ctx ends, telling the test it did.
type blockClock struct{ asleep chan time.Duration }

func (c *blockClock) Now() time.Time { return time.Unix(0, 0) }
func (c *blockClock) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case c.asleep <- d:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

func recording(t *testing.T, frames ...*schema.WsFrame) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.jsonl")
	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueBinance, URL: "wss://x"})
	require.NoError(t, err)
	for _, f := range frames {
		require.True(t, rec.Record(f))
	}
	require.NoError(t, rec.Close())
	return path
}

// Close while connections wait out a long recorded gap: every goroutine
// ends, the client sees its connection closed.
func TestAdvReplayCloseDuringPacedSend(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	path := recording(t,
		&schema.WsFrame{ConnID: 1, Seq: 1, ReceivedAt: 1e9, Data: []byte("a")},
		&schema.WsFrame{ConnID: 1, Seq: 2, ReceivedAt: 1e9 + int64(24*time.Hour), Data: []byte("b")})
	clock := &blockClock{asleep: make(chan time.Duration, 1)}
	srv, err := venuesim.StartReplay([]string{path}, &venuesim.ReplayOptions{Paced: true, Clock: clock})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var conns []*websocket.Conn
	for range 3 {
		ws, _, err := websocket.Dial(ctx, srv.URL(), nil)
		require.NoError(t, err)
		conns = append(conns, ws)
		_, data, err := ws.Read(ctx)
		require.NoError(t, err)
		assert.Equal(t, "a", string(data))
		assert.Equal(t, 24*time.Hour, <-clock.asleep)
	}
	srv.Close()
	srv.Close() // idempotent
	for _, ws := range conns {
		_, _, err := ws.Read(ctx)
		require.Error(t, err, "the connection ends with the server")
		_ = ws.CloseNow()
	}
	st := srv.Stats()
	assert.Equal(t, uint64(3), st.Connections)
	assert.Zero(t, st.Active)
	assert.Zero(t, st.Completed)
	_, _, err = websocket.Dial(ctx, srv.URL(), nil)
	require.Error(t, err, "a closed server takes no connection")
}

// A recording of several connections (a client that reconnected, or
// clients sharing a recorder) is served whole and in recorded order to
// every connection, binary frames as binary.
func TestAdvReplaySeveralRecordedConnections(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var frames []*schema.WsFrame
	var want []string
	for i := range 12 {
		d := string(rune('a' + i))
		frames = append(frames, &schema.WsFrame{ConnID: uint64(i%3 + 1), Seq: uint64(i/3 + 1), ReceivedAt: int64(i + 1), Data: []byte(d), Binary: i%4 == 0})
		want = append(want, d)
	}
	srv, err := venuesim.StartReplay([]string{recording(t, frames...)}, nil)
	require.NoError(t, err)
	defer srv.Close()
	require.Equal(t, 12, srv.Frames())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 2 {
		ws, _, err := websocket.Dial(ctx, srv.URL(), nil)
		require.NoError(t, err)
		var got []string
		for i := range 12 {
			typ, data, err := ws.Read(ctx)
			require.NoError(t, err)
			assert.Equal(t, i%4 == 0, typ == websocket.MessageBinary, "frame %d kind", i)
			got = append(got, string(data))
		}
		assert.Equal(t, want, got)
		require.NoError(t, ws.Close(websocket.StatusNormalClosure, ""))
	}
	require.Eventually(t, func() bool { return srv.Stats().Completed == 2 && srv.Stats().Active == 0 }, 30*time.Second, time.Millisecond)
}

// A recording with no received frame (only its header, or only sent
// messages) is served as such: zero frames, the connection open and quiet.
func TestAdvReplayEmptyRecording(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	path := filepath.Join(t.TempDir(), "e.jsonl")
	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueBinance})
	require.NoError(t, err)
	rec.RecordSent(1, 1, []byte(`{"method":"SUBSCRIBE"}`))
	require.NoError(t, rec.Close())
	srv, err := venuesim.StartReplay([]string{path}, nil)
	require.NoError(t, err)
	defer srv.Close()
	assert.Zero(t, srv.Frames())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, srv.URL(), nil)
	require.NoError(t, err)
	defer func() { _ = ws.CloseNow() }()
	require.Eventually(t, func() bool { return srv.Stats().Completed == 1 }, 30*time.Second, time.Millisecond)
}

// A recording whose frame lines are corrupt is refused at start, typed.
func TestAdvStartReplayCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.jsonl")
	writeBytes(t, path, `{"format":"meltica.recording","version":1,"t":0}`+"\n"+`{"t":1,"text":"a"}`+"\n"+`{"t":`+"\n")
	_, err := venuesim.StartReplay([]string{path}, nil)
	require.ErrorIs(t, err, recorder.ErrFormat)
}

func writeBytes(t *testing.T, path, s string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(s), 0o600))
}
