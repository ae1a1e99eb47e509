package book

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// sharedVenues holds the real venue messages; tests skip without it.
const sharedVenues = "../../../shared/venues"

func readVenue(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedVenues, name))
	if os.IsNotExist(err) {
		t.Skipf("%s not present", name)
	}
	require.NoError(t, err)
	return b
}

// recSink keeps a clone of every event and returns the original to its
// pool, as the dispatcher does.
type recSink struct {
	events *pool.Pool[*schema.CanonicalEvent]
	mu     sync.Mutex
	got    []*schema.CanonicalEvent
}

func (s *recSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.mu.Lock()
	s.got = append(s.got, ev.Clone())
	s.mu.Unlock()
	s.events.Put(ev)
	return nil
}

func (s *recSink) ofType(t schema.EventType) []*schema.CanonicalEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*schema.CanonicalEvent
	for _, ev := range s.got {
		if ev.Type == t {
			out = append(out, ev)
		}
	}
	return out
}

func newRecBook(t testing.TB, rule Rule, symbol string, o *Options) (*Book, *recSink, *pool.Pool[*schema.CanonicalEvent]) {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	var opts Options
	if o != nil {
		opts = *o
	}
	opts.Sink, opts.Events = sink, events
	b, err := NewBook(rule, symbol, &opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.Zero(t, events.Stats().InUse, "events not returned to the pool") })
	return b, sink, events
}

// levels turns [[price, qty, ...], ...] strings into levels, digits kept.
func levels(t testing.TB, raw [][]string) []schema.Level {
	t.Helper()
	out := make([]schema.Level, 0, len(raw))
	for _, r := range raw {
		require.GreaterOrEqual(t, len(r), 2)
		p, err := schema.ParseDecimal(r[0])
		require.NoError(t, err)
		q, err := schema.ParseDecimal(r[1])
		require.NoError(t, err)
		out = append(out, schema.Level{Price: p, Qty: q})
	}
	return out
}

// The OKX, Kraken and Bybit parsers are being written alongside this
// package; until they land, the tests decode the samples into the canonical
// Book fields themselves, keeping the digits.

func okxEvent(t testing.TB, data []byte) *schema.CanonicalEvent {
	t.Helper()
	var m struct {
		Arg struct {
			InstID string `json:"instId"`
		} `json:"arg"`
		Action string `json:"action"`
		Data   []struct {
			Asks      [][]string `json:"asks"`
			Bids      [][]string `json:"bids"`
			Checksum  int32      `json:"checksum"`
			SeqID     int64      `json:"seqId"`
			PrevSeqID int64      `json:"prevSeqId"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(data, &m))
	require.Len(t, m.Data, 1)
	d := m.Data[0]
	ev := &schema.CanonicalEvent{Venue: schema.VenueOKX, Symbol: m.Arg.InstID, Type: schema.EventBookUpdate}
	if m.Action == "snapshot" {
		ev.Type = schema.EventBookSnapshot
	}
	ev.Book.Bids, ev.Book.Asks = levels(t, d.Bids), levels(t, d.Asks)
	ev.Book.Checksum, ev.Book.HasChecksum = uint32(d.Checksum), true
	if d.SeqID > 0 {
		ev.Book.LastSeq = uint64(d.SeqID)
	}
	if d.PrevSeqID > 0 {
		ev.Book.PrevSeq = uint64(d.PrevSeqID)
	}
	return ev
}

func krakenV1Event(t testing.TB, data []byte) *schema.CanonicalEvent {
	t.Helper()
	var frame []json.RawMessage
	require.NoError(t, json.Unmarshal(data, &frame))
	require.GreaterOrEqual(t, len(frame), 4)
	var pair string
	require.NoError(t, json.Unmarshal(frame[len(frame)-1], &pair))
	ev := &schema.CanonicalEvent{Venue: schema.VenueKraken, Symbol: pair, Type: schema.EventBookUpdate}
	for _, part := range frame[1 : len(frame)-2] {
		var o struct {
			As, Bs, A, B [][]string
			C            string
		}
		require.NoError(t, json.Unmarshal(part, &o))
		if o.As != nil || o.Bs != nil {
			ev.Type = schema.EventBookSnapshot
		}
		ev.Book.Asks = append(ev.Book.Asks, levels(t, append(o.As, o.A...))...)
		ev.Book.Bids = append(ev.Book.Bids, levels(t, append(o.Bs, o.B...))...)
		if o.C != "" {
			c, err := strconv.ParseUint(o.C, 10, 32)
			require.NoError(t, err)
			ev.Book.Checksum, ev.Book.HasChecksum = uint32(c), true
		}
	}
	return ev
}

func bybitEvent(t testing.TB, data []byte) *schema.CanonicalEvent {
	t.Helper()
	var m struct {
		Type string `json:"type"`
		Data struct {
			S string     `json:"s"`
			B [][]string `json:"b"`
			A [][]string `json:"a"`
			U uint64     `json:"u"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(data, &m))
	ev := &schema.CanonicalEvent{Venue: schema.VenueBybit, Symbol: m.Data.S, Type: schema.EventBookUpdate}
	if m.Type == "snapshot" {
		ev.Type = schema.EventBookSnapshot
	}
	ev.Book.Bids, ev.Book.Asks = levels(t, m.Data.B), levels(t, m.Data.A)
	ev.Book.LastSeq = m.Data.U
	return ev
}

// requireTop asserts the best levels of a book, digits included.
func requireTop(t testing.TB, b *Book, bids, asks [][2]string) {
	t.Helper()
	var ev schema.CanonicalEvent
	b.Top(max(len(bids), len(asks)), &ev)
	require.GreaterOrEqual(t, len(ev.Book.Bids), len(bids))
	require.GreaterOrEqual(t, len(ev.Book.Asks), len(asks))
	for i, w := range bids {
		require.Equal(t, w[0]+" "+w[1], ev.Book.Bids[i].Price.String()+" "+ev.Book.Bids[i].Qty.String(), "bid %d", i)
	}
	for i, w := range asks {
		require.Equal(t, w[0]+" "+w[1], ev.Book.Asks[i].Price.String()+" "+ev.Book.Asks[i].Qty.String(), "ask %d", i)
	}
}

// sinkPut returns every event to its pool: for allocation tests and
// benchmarks.
type sinkPut struct {
	events *pool.Pool[*schema.CanonicalEvent]
}

func (s *sinkPut) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.events.Put(ev)
	return nil
}
