package venuesim_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

func writeRecording(t *testing.T, msgs ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.jsonl.zst")
	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueKraken, URL: "wss://ws.kraken.com", Compress: true})
	require.NoError(t, err)
	rec.RecordSent(1, 1, []byte(`{"event":"subscribe"}`))
	for i, m := range msgs {
		f := &schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: int64(1e9 + i), Data: []byte(m), Binary: m == "\x00\x01"}
		require.True(t, rec.Record(f))
	}
	require.NoError(t, rec.Close())
	return path
}

// Every connection is sent every received frame, in order and of its
// recorded kind, through the real wsclient; sent messages are skipped.
func TestReplayServesRecordingToWsclient(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	msgs := []string{`{"event":"systemStatus"}`, `[1,{"as":[]}]`, "\x00\x01", `{"event":"heartbeat"}`}
	var logs bytes.Buffer
	srv, err := venuesim.StartReplay([]string{writeRecording(t, msgs...)}, &venuesim.ReplayOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	defer srv.Close()
	assert.Equal(t, len(msgs), srv.Frames())
	assert.Equal(t, schema.VenueKraken, srv.Venue())
	assert.Equal(t, "wss://ws.kraken.com", srv.RecordedURL())

	var mu sync.Mutex
	var got []string
	var binary []bool
	done := make(chan struct{})
	c, err := wsclient.New(srv.URL()+"/any/path", func(_ context.Context, f *schema.WsFrame) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, string(f.Data))
		binary = append(binary, f.Binary)
		if len(got) == len(msgs) {
			close(done)
		}
		return nil
	}, &wsclient.Options{Venue: schema.VenueKraken, Subscriptions: [][]byte{[]byte(`{"event":"subscribe"}`)}})
	require.NoError(t, err)
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(context.Background()) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the recording did not arrive")
	}
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, <-runErr)
	assert.Equal(t, msgs, got)
	assert.Equal(t, []bool{false, false, true, false}, binary)
	require.Eventually(t, func() bool { return srv.Stats().Active == 0 }, 10*time.Second, time.Millisecond, "%+v %s", srv.Stats(), &logs)
	st := srv.Stats()
	assert.Equal(t, uint64(1), st.Connections)
	assert.Equal(t, uint64(len(msgs)), st.Sent)
	assert.Equal(t, uint64(1), st.Completed)
	assert.Contains(t, logs.String(), `level=INFO msg="replay connection sent the whole recording" venue=kraken connection=1 frames=4`)
}

// Paced, the server waits the recorded gaps on its clock.
func TestReplayServesAtRecordedPace(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	clock := &stepClock{now: time.Unix(0, 0)}
	srv, err := venuesim.StartReplay([]string{writeRecording(t, "a", "b", "c")}, &venuesim.ReplayOptions{Paced: true, Speed: 1, Clock: clock})
	require.NoError(t, err)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, srv.URL(), nil)
	require.NoError(t, err)
	defer func() { _ = ws.CloseNow() }()
	for _, want := range []string{"a", "b", "c"} {
		_, data, err := ws.Read(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, string(data))
	}
	assert.Equal(t, []time.Duration{1, 1}, clock.slept(), "the recorded gaps are 1 ns each")
	require.NoError(t, ws.Close(websocket.StatusNormalClosure, ""))
}

func TestStartReplayRefusesNonRecording(t *testing.T) {
	_, err := venuesim.StartReplay([]string{filepath.Join(t.TempDir(), "missing")}, nil)
	require.Error(t, err)
}

type stepClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func (c *stepClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}
