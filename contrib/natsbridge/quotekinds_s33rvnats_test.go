package natsbridge

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// lockingHandler is a host's slog handler that, at a Warn record, waits
// for the Publisher's lostMu (as one waiting on something the watcher
// holds up would), and tells warned of the record.
type lockingHandler struct {
	p      *Publisher
	warned chan string
}

func (lockingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h lockingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.p.lostMu.Lock()
		h.p.lostMu.Unlock() //nolint:staticcheck // the wait is the point
		h.warned <- r.Message
	}
	return nil
}
func (h lockingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h lockingHandler) WithGroup(string) slog.Handler      { return h }

// TestS33rvnatsQuoteKindsBound: the Publisher tells, after a lost link,
// every quote type of every venue it sent, up to maxQuoteKinds; one
// forgotten past the bound is not told, and the host hears so (a Warn), not silently —
// logged with lostMu unlocked: the handler is host code, and the
// watcher, which takes lostMu at every state change, waited for it (a
// handler that waits on the watcher's work deadlocked the two).
func TestS33rvnatsQuoteKindsBound(t *testing.T) {
	p := &Publisher{}
	h := lockingHandler{p: p, warned: make(chan string, 4)}
	p.log = logger(slog.New(h))
	kinds := []schema.EventType{schema.EventBBO, schema.EventTicker, schema.EventKlineLive, schema.EventMarkPrice, schema.EventFundingRate}
	for i := range maxQuoteKinds / len(kinds) {
		for _, k := range kinds {
			p.noteQuoteKind(schema.Venue("v"+strconv.Itoa(i)), k)
			p.noteQuoteKind(schema.Venue("v"+strconv.Itoa(i)), k) // noted once
		}
	}
	require.Equal(t, maxQuoteKinds, p.quoteKinds.len())
	require.Empty(t, h.warned)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.noteQuoteKind("one-too-many", schema.EventBBO)
	}()
	select {
	case msg := <-h.warned:
		require.True(t, strings.Contains(msg, "not told"), msg)
	case <-time.After(generous):
		t.Fatal("no Warn for a quote kind past the bound (or the handler waited for lostMu, held while logging)")
	}
	<-done
	require.Equal(t, maxQuoteKinds, p.quoteKinds.len())
	p.linkLost()
	require.Len(t, p.lostKinds, maxQuoteKinds)
	// Since s35nats the kinds sent most recently are kept (see
	// TestS35natsHostQuoteKindToldPastStrayKinds): the one past the bound
	// is told, the least recently sent forgotten.
	require.Contains(t, p.lostKinds, streamKey{venue: "one-too-many", typ: schema.EventBBO})
	require.NotContains(t, p.lostKinds, streamKey{venue: "v0", typ: schema.EventBBO})
	require.Equal(t, uint64(1), p.kindsForgotten.load())
}
