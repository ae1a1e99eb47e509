package dispatch

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// logRecorder is a slog.Handler that keeps every record with its
// attributes.
type logRecorder struct {
	mu      sync.Mutex
	records []logged
}

type logged struct {
	level slog.Level
	msg   string
	attrs map[string]any
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l := logged{level: r.Level, msg: r.Message, attrs: map[string]any{}}
	r.Attrs(func(a slog.Attr) bool {
		l.attrs[a.Key] = a.Value.Any()
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, l)
	h.mu.Unlock()
	return nil
}

func (h *logRecorder) got() []logged {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]logged(nil), h.records...)
}

// The logger hears each slow spell once, not each drop, and its end; a
// critical lane over its bound once; a Close that gave up. Nothing else.
func TestLogging(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	h := &logRecorder{}
	d := New(p, &Options{Logger: slog.New(h)})
	r, s := stalled(t, d, p, SubscribeOptions{Name: "strategy", OrderedBound: 2, CriticalBound: 1}, schema.EventTrade)
	for seq := uint64(2); seq <= 11; seq++ { // 8 drops
		publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, seq)
	}
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 1)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 2) // over the bound
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 3) // still over: no second record
	require.Len(t, h.got(), 2, "one record per transition, not per drop")
	r.open()
	eventually(t, func() bool { return len(h.got()) == 3 }, "caught up")

	recs := h.got()
	id := s.ID()
	assert.Equal(t, logged{level: slog.LevelWarn, msg: "dispatch: subscriber too slow, dropping its oldest market data",
		attrs: map[string]any{"subscription_id": id, "subscriber": "strategy", "ordered_bound": int64(2)}}, recs[0])
	assert.Equal(t, logged{level: slog.LevelWarn, msg: "dispatch: critical lane over its bound, growing (nothing dropped)",
		attrs: map[string]any{"subscription_id": id, "subscriber": "strategy", "critical_bound": int64(1), "critical": int64(2)}}, recs[1])
	assert.Equal(t, logged{level: slog.LevelInfo, msg: "dispatch: subscriber caught up",
		attrs: map[string]any{"subscription_id": id, "subscriber": "strategy", "dropped": uint64(8)}}, recs[2])

	// A Close that gives up is a Warn. The first subscriber, open now,
	// gets the two trades too: on a loaded machine they were still queued
	// when Close gave up, and were discarded with the stuck one's.
	r2, _ := stalled(t, d, p, SubscribeOptions{}, schema.EventTrade)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 12)
	eventually(t, func() bool { return s.Stats().Depth == 0 }, "the first subscriber drained")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	require.Error(t, d.Close(ctx))
	recs = h.got()
	require.Len(t, recs, 4)
	assert.Equal(t, slog.LevelWarn, recs[3].level)
	assert.Equal(t, "dispatch: close gave up draining", recs[3].msg)
	assert.Equal(t, uint64(1), recs[3].attrs["discarded"])
	r2.open()
}
