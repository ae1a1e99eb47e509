package natsbridge

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// blockingHandler is a host's slog handler that blocks on its first
// record at Warn or above until release is closed, telling entered.
type blockingHandler struct {
	entered chan struct{}
	release chan struct{}
}

func (blockingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h blockingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		select {
		case h.entered <- struct{}{}:
			<-h.release
		default:
		}
	}
	return nil
}
func (h blockingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h blockingHandler) WithGroup(string) slog.Handler      { return h }

// TestS33natsBlockingLoggerHoldsUpNothingLost: the Logger's handler is
// host code the bridge waits for (ConsumerOptions.Logger): one that
// blocks holds up the goroutine that logs — here the Consumer's loop, at
// a malformed message — until it returns, as the docs say, and then the
// bridge goes on with nothing lost: the messages that came meanwhile are
// handed on, in order, no loss announced.
func TestS33natsBlockingLoggerHoldsUpNothingLost(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	h := blockingHandler{entered: make(chan struct{}, 1), release: make(chan struct{})}
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, &ConsumerOptions{Logger: slog.New(h)})
	require.NoError(t, err)
	nc := connect(t, srv.ClientURL(), nil)
	subj := Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventTrade)
	require.NoError(t, nc.Publish(subj, []byte{wire.Version, byte(schema.EventTrade)})) // malformed: logged at Warn
	require.NoError(t, nc.Flush())
	select {
	case <-h.entered:
	case <-waitCtx(t).Done():
		t.Fatal("the handler never ran")
	}
	const n = 5
	for seq := uint64(1); seq <= n; seq++ {
		require.NoError(t, nc.Publish(subj, wire.Append(nil, tradeOf("BTC-USDT", seq), seq)))
	}
	require.NoError(t, nc.Flush())
	// All in the Consumer's hands; the loop, waiting for the handler,
	// hands none on.
	eventually(t, func() bool { return cons.handedOn() == n+1 }, "not received: %d", cons.handedOn())
	require.Empty(t, got, "handed on while the loop waited for the handler")
	close(h.release)
	for seq := uint64(1); seq <= n; seq++ {
		ev := next(t, got, anyEvent)
		require.Equal(t, schema.EventTrade, ev.Type)
		require.Equal(t, seq, ev.SeqProvider)
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
	s := cons.Stats()
	require.Equal(t, uint64(1), s.Malformed)
	require.Zero(t, s.Gaps, "%+v", s)
	require.Equal(t, uint64(n), s.Delivered)
}
