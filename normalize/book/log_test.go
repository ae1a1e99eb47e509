package book

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// logStore keeps every record a logRec handler sees, with its attributes.
type logStore struct {
	mu   sync.Mutex
	recs []logged
}

type logged struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

type logRec struct {
	store *logStore
	attrs []slog.Attr
}

func (h *logRec) Enabled(context.Context, slog.Level) bool { return true }

func (h *logRec) Handle(_ context.Context, r slog.Record) error {
	l := logged{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		l.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		l.attrs[a.Key] = a.Value.String()
		return true
	})
	h.store.mu.Lock()
	h.store.recs = append(h.store.recs, l)
	h.store.mu.Unlock()
	return nil
}

func (h *logRec) WithAttrs(as []slog.Attr) slog.Handler {
	return &logRec{store: h.store, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *logRec) WithGroup(string) slog.Handler { return h }

func (s *logStore) all() []logged {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]logged(nil), s.recs...)
}

// The books' log: state changes at Info, faults at Warn, every record
// with venue and symbol, nothing per message; a book added to Books
// without a logger takes the Books'.
func TestLogging(t *testing.T) {
	store := &logStore{}
	logger := slog.New(&logRec{store: store})
	var resubs int
	bk, sink, events := newRecBook(t, OKX, "BTC-USDT", &Options{Resubscribe: func(context.Context, schema.Venue, string) error { resubs++; return nil }})
	books := NewBooks(sink, events, &BooksOptions{Logger: logger})
	books.Add(bk)
	ctx := context.Background()
	okx := func(typ schema.EventType, seq, prev uint64, bid string) *schema.CanonicalEvent {
		return bookEv(schema.VenueOKX, typ, 0, seq, prev, []schema.Level{lvl(bid, "1")}, []schema.Level{lvl("200", "1")})
	}
	require.NoError(t, bk.Apply(ctx, okx(schema.EventBookSnapshot, 100, 0, "100")))
	n := len(store.all())
	require.Equal(t, 1, n)
	for i := range uint64(100) {
		require.NoError(t, bk.Apply(ctx, okx(schema.EventBookUpdate, 101+i, 100+i, "101")))
		require.NoError(t, bk.Apply(ctx, okx(schema.EventBookUpdate, 101+i, 100+i, "101"))) // a repeat
	}
	require.Len(t, store.all(), n, "nothing per message, repeats included")

	require.NoError(t, bk.Apply(ctx, okx(schema.EventBookUpdate, 300, 250, "102"))) // a gap
	require.NoError(t, bk.Apply(ctx, okx(schema.EventBookSnapshot, 400, 0, "100")))
	bad := okx(schema.EventBookUpdate, 401, 400, "103")
	bad.Book.Checksum, bad.Book.HasChecksum = 12345, true
	require.NoError(t, bk.Apply(ctx, bad))
	require.NoError(t, bk.Apply(ctx, okx(schema.EventBookSnapshot, 500, 0, "100")))
	require.NoError(t, books.Publish(ctx, publishPooled(t, events, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Type = schema.VenueOKX, schema.EventConnState
		ev.Control = &schema.Control{Kind: schema.ControlConnState, State: schema.ConnDisconnected}
	})))

	type line struct {
		level slog.Level
		msg   string
	}
	var got []line
	for _, r := range store.all() {
		require.Equal(t, "okx", r.attrs["venue"], r.msg)
		require.Equal(t, "BTC-USDT", r.attrs["symbol"], r.msg)
		got = append(got, line{r.level, r.msg})
	}
	require.Equal(t, []line{
		{slog.LevelInfo, "book: live"},
		{slog.LevelWarn, ReasonGap},
		{slog.LevelInfo, "book: resubscribing"},
		{slog.LevelInfo, "book: live"},
		{slog.LevelWarn, ReasonChecksum},
		{slog.LevelInfo, "book: resubscribing"},
		{slog.LevelInfo, "book: live"},
		{slog.LevelInfo, ReasonReconnect},
	}, got)
	gap := store.all()[1]
	require.Equal(t, "201", gap.attrs["first"])
	require.Equal(t, "250", gap.attrs["last"])
	require.Equal(t, 2, resubs)
}
