package natsbridge

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS33rvnatsOwnCriticalEventsNoFalseAlarm: the Consumer's own critical
// events (its connection's states, the markers of a lost link) are held
// first and then delivered (s33nats, so that a Goexit inside one's
// Publish leaves the others held). Held, they were checked against the
// held bound at once: with a small PendingBytes the very first state,
// delivered at once from a pool with every event free, raised the Warn
// "critical messages waiting for the event pool at the bound" — a false
// alarm of pool exhaustion, and the loop stopped taking messages until
// the flush. Only what is still held once delivery stops is held.
func TestS33rvnatsOwnCriticalEventsNoFalseAlarm(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	states := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventConnState}})
	var mu sync.Mutex
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(syncWriter{&mu, &out}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, &ConsumerOptions{PendingBytes: 1, Logger: log})
	require.NoError(t, err)
	require.Equal(t, schema.ConnConnected, next(t, states, anyEvent).Control.State)
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
	mu.Lock()
	defer mu.Unlock()
	require.False(t, strings.Contains(out.String(), "waiting for the event pool"), "false alarm: %s", out.String())
	require.Zero(t, cons.Stats().PoolDropped)
}
