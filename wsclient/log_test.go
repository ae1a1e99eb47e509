package wsclient

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	gojson "github.com/goccy/go-json"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/coder/websocket"

	"github.com/meltica/meltica/schema"
)

// lockedBuffer is a bytes.Buffer safe for the client's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// The slog output: state changes at Info, the lost connection at Warn,
// keyed by venue and connection id (from 1); five bad messages give three
// lines (1st, 2nd, 4th), good messages none.
func TestLogging(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, faulty(func(s *session) {
		for range 5 {
			_ = s.send("junk")
		}
		for range 20 {
			_ = s.send(`{"ok":1}`)
		}
		_ = s.ws.Close(websocket.StatusGoingAway, "maintenance")
	}))
	var out lockedBuffer
	opts := quickOptions()
	opts.Logger = slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	k := &sink{hook: func(f *schema.WsFrame) error {
		if string(f.Data) == "junk" {
			return errJunk
		}
		return nil
	}}
	h := start(t, v.url(), opts, k, leaks)
	h.rec.waitFor(t, "connected on 2", connected(2))
	h.finish(v)

	type line struct {
		Level   string `json:"level"`
		Msg     string `json:"msg"`
		Venue   string `json:"venue"`
		ConnID  uint64 `json:"conn_id"`
		State   string `json:"state"`
		Reason  string `json:"reason"`
		Err     string `json:"err"`
		Attempt int    `json:"attempt"`
		Count   uint64 `json:"count"`
	}
	var lines []line
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ln line
		require.NoError(t, gojson.Unmarshal([]byte(l), &ln), l)
		require.Equal(t, "binance", ln.Venue, l)
		lines = append(lines, ln)
	}
	var counts []uint64
	var lost, reconnecting, connectedOn []line
	for _, ln := range lines {
		switch {
		case ln.Reason == "handler_error":
			require.Equal(t, "WARN", ln.Level)
			require.Equal(t, uint64(1), ln.ConnID)
			counts = append(counts, ln.Count)
		case ln.State == "disconnected":
			lost = append(lost, ln)
		case ln.State == "reconnecting":
			reconnecting = append(reconnecting, ln)
		case ln.State == "connected":
			connectedOn = append(connectedOn, ln)
		}
	}
	require.Equal(t, []uint64{1, 2, 4}, counts, "log lines for 5 bad messages; output:\n%s", out.String())
	require.Len(t, lost, 1)
	require.Equal(t, "WARN", lost[0].Level)
	require.Equal(t, uint64(1), lost[0].ConnID)
	require.Equal(t, "peer_closed", lost[0].Reason)
	require.Contains(t, lost[0].Err, "maintenance")
	require.Len(t, reconnecting, 1)
	require.Equal(t, "INFO", reconnecting[0].Level)
	require.Equal(t, 1, reconnecting[0].Attempt)
	require.Len(t, connectedOn, 2)
	for i, ln := range connectedOn {
		require.Equal(t, "INFO", ln.Level)
		require.Equal(t, uint64(i+1), ln.ConnID)
	}
	require.Less(t, len(lines), 12, "nothing per message:\n%s", out.String())
}
