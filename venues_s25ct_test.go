package meltica_test

// Black-box contract tests of the ingest path, written from the module's
// doc.go, README and /work/shared/DESIGN.md (contracts 1, 6, 7) by a team
// that did not write the parsers: every real venue message in
// testdata/venues (sources in its SOURCES.md) through the public API only.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s25ctParsers builds the parser for each venue prefix of testdata/venues.
var s25ctParsers = map[string]func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser{
	"binance":  normalize.NewBinance,
	"bybit":    normalize.NewBybit,
	"coinbase": normalize.NewCoinbase,
	"kraken":   normalize.NewKraken,
	"okx":      normalize.NewOKX,
}

type s25ctSample struct {
	name, venue string
	data        []byte
}

// s25ctSamples reads every real venue message of testdata/venues.
func s25ctSamples(t testing.TB) []s25ctSample {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "venues", "*.json"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 60, "the 68 venue messages")
	sort.Strings(files)
	var out []s25ctSample
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		venue, _, _ := strings.Cut(name, "_")
		require.Contains(t, s25ctParsers, venue, "a parser for %s", name)
		out = append(out, s25ctSample{name: name, venue: venue, data: b})
	}
	return out
}

// s25ctPutSink returns every event to its pool at once, as a dispatcher
// with no subscriber does.
type s25ctPutSink struct {
	events *pool.Pool[*schema.CanonicalEvent]
	n      int
}

func (s *s25ctPutSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.n++
	s.events.Put(ev)
	return nil
}

// Contract 7 and the README: "no allocation from the socket to the
// dispatcher" and normalize/doc.go "In steady state no message of any
// venue allocates". Every real message of every venue, HandleFrame with a
// pooled frame as the wsclient reader gives it, KeepRaw on and off.
func TestS25ctEveryVenueMessageAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	for _, keepRaw := range []bool{false, true} {
		for _, s := range s25ctSamples(t) {
			t.Run(fmt.Sprintf("%s/raw=%v", s.name, keepRaw), func(t *testing.T) {
				ctx := context.Background()
				pools := schema.NewPools(nil)
				sink := &s25ctPutSink{events: pools.Events}
				p := s25ctParsers[s.venue](pools.Events, sink, &normalize.Options{KeepRaw: keepRaw})
				f, err := pools.Frames.Get(ctx)
				require.NoError(t, err)
				f.Provider, f.ConnID = p.Venue(), 1
				var lastErr error
				handle := func() {
					f.Seq++
					f.ReceivedAt = 1_700_000_000_000_000_000 + int64(f.Seq)
					f.Data = append(f.Data[:0], s.data...)
					lastErr = p.HandleFrame(ctx, f) // errors are counted; a refusal must be free too
				}
				for range 4 {
					handle()
				}
				allocs := testing.AllocsPerRun(200, handle)
				if lastErr != nil {
					// A refusal allocates its *ParseError: the error path
					// is not the steady state, and costs nothing else
					// (FuzzS25ctVenueInput).
					t.Logf("refused (%v): %v allocations", lastErr, allocs)
				} else {
					assert.Zero(t, allocs, "allocations per message (%d events published in all)", sink.n)
				}
				pools.Frames.Put(f)
				require.NoError(t, pools.Shutdown(ctx))
			})
		}
	}
}

// s25ctKeepSink keeps the pooled events it is handed (the sink owns them,
// normalize.Sink) with their rendering at the time they were published.
type s25ctKeepSink struct {
	evs   []*schema.CanonicalEvent
	shown []string
}

// s25ctShow is the event's data as text, every exported field in order
// as %+v prints them, an out-of-line section (issue #15) by its content,
// or <nil> when the event does not carry it: %+v alone prints a section's
// address, which differs between two events of the same data.
func s25ctShow(ev *schema.CanonicalEvent) string {
	c := reflect.ValueOf(ev.Clone()).Elem() // no Header: its state is not the event's data
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < c.NumField(); i++ {
		f := c.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(' ')
		}
		v := c.Field(i)
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		fmt.Fprintf(&b, "%s:%+v", f.Name, v)
	}
	b.WriteByte('}')
	return b.String()
}

func (s *s25ctKeepSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.evs = append(s.evs, ev)
	s.shown = append(s.shown, s25ctShow(ev))
	return nil
}

// The module doc, step 2: "nothing points into the frame afterwards"; the
// reader reuses the frame's buffer for the next message once the handler
// returns. Every event of every real message — Raw kept or not — must read
// the same after the frame's bytes are overwritten, as the next message
// read into the same buffer overwrites them.
func TestS25ctEventsDoNotAliasTheFrame(t *testing.T) {
	for _, keepRaw := range []bool{false, true} {
		for _, s := range s25ctSamples(t) {
			t.Run(fmt.Sprintf("%s/raw=%v", s.name, keepRaw), func(t *testing.T) {
				ctx := context.Background()
				pools := schema.NewPools(nil)
				sink := &s25ctKeepSink{}
				p := s25ctParsers[s.venue](pools.Events, sink, &normalize.Options{KeepRaw: keepRaw})
				f, err := pools.Frames.Get(ctx)
				require.NoError(t, err)
				f.Provider, f.ConnID, f.Seq, f.ReceivedAt = p.Venue(), 1, 1, 1_700_000_000_000_000_000
				f.Data = append(f.Data[:0], s.data...)
				_ = p.HandleFrame(ctx, f)
				for i := range f.Data {
					f.Data[i] = 'Z'
				}
				pools.Frames.Put(f)
				for i, ev := range sink.evs {
					assert.Equal(t, sink.shown[i], s25ctShow(ev), "event %d changed with the frame's buffer", i)
					if keepRaw && len(ev.Raw) > 0 {
						assert.False(t, bytes.Contains(ev.Raw, []byte("ZZZZ")), "Raw aliases the frame")
					}
					pools.Events.Put(ev)
				}
				require.NoError(t, pools.Shutdown(ctx))
			})
		}
	}
}

// s25ctErrOK reports whether err is one of the errors normalize/doc.go
// says a parser returns: a *ParseError (wrapping a sentinel or a
// *schema.DecimalError) or ErrDropped.
func s25ctErrOK(err error) bool {
	var pe *normalize.ParseError
	return err == nil || errors.As(err, &pe) || errors.Is(err, normalize.ErrDropped)
}

// Contract 6: "No panic, ever, on venue input (fuzzed)"; bad input gets a
// typed error and costs nothing else: every event taken is returned
// (the pool's InUse back to 0 after each message, as the sink returns
// what it is handed), and the parser reads the next real message as
// before. Every venue's parser gets every input (a foreign venue's message
// is bad input too).
func FuzzS25ctVenueInput(f *testing.F) {
	for _, s := range s25ctSamples(f) {
		f.Add(s.data)
	}
	f.Add([]byte(`{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1e999999999","q":"-0","T":1,"m":true}`))
	f.Add([]byte(`[1,{"a":["1","2","3"]},"book-10","XBT/USD"]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		for _, venue := range []string{"binance", "bybit", "coinbase", "kraken", "okx"} {
			events := schema.NewPools(nil).Events
			sink := &s25ctPutSink{events: events}
			p := s25ctParsers[venue](events, sink, &normalize.Options{KeepRaw: true})
			for range 2 { // a second time: state left by the first must not hurt
				err := p.HandleBytes(ctx, data, 1_700_000_000_000_000_000)
				if !s25ctErrOK(err) {
					t.Fatalf("%s: untyped error %T: %v", venue, err, err)
				}
				if n := events.Stats().InUse; n != 0 {
					t.Fatalf("%s: %d events not returned after %q", venue, n, data)
				}
			}
		}
	})
}
