package normalize

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// fuzzVenue fuzzes a venue parser's frame entry point, seeded with its
// fixtures and shared files: whatever the input, no panic, only
// *ParseErrors of the venue, only valid events, every event returned.
func fuzzVenue(f *testing.F, venue schema.Venue) {
	for _, pattern := range []string{filepath.Join("testdata", string(venue), "*.json"), filepath.Join(sharedVenues, string(venue)+"_*")} {
		files, _ := filepath.Glob(pattern)
		for _, path := range files {
			if b, err := os.ReadFile(path); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		events := pool.New("fuzz", 8, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
		sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			defer events.Put(ev)
			if err := ev.Validate(); err != nil {
				t.Fatalf("published an invalid event: %v: %+v", err, ev)
			}
			if ev.Venue != venue || ev.IngestTS != 1 {
				t.Fatalf("bad stamp: %+v", ev)
			}
			return nil
		})
		p := newVenueParser(venue, events, sink)
		for range 2 { // twice: the second pass meets the state the first left
			err := p.HandleBytes(context.Background(), data, 1)
			var pe *ParseError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			if pe != nil && (pe.Venue != venue || pe.Stream == "" || pe.Err == nil) {
				t.Fatalf("incomplete ParseError: %+v", pe)
			}
			if n := events.Stats().InUse; n != 0 {
				t.Fatalf("%d events not returned", n)
			}
		}
	})
}

func FuzzCoinbaseFrame(f *testing.F) { fuzzVenue(f, schema.VenueCoinbase) }
func FuzzKrakenFrame(f *testing.F)   { fuzzVenue(f, schema.VenueKraken) }
func FuzzOKXFrame(f *testing.F)      { fuzzVenue(f, schema.VenueOKX) }
func FuzzBybitFrame(f *testing.F)    { fuzzVenue(f, schema.VenueBybit) }
