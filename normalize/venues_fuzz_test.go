package normalize

import (
	"bytes"
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
	for _, pattern := range venueSeedFiles(string(venue)) {
		files, _ := filepath.Glob(pattern)
		for _, path := range files {
			if b, err := os.ReadFile(path); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Scribbled over below: the fuzzing engine's input must stay as
		// it is (testing.F.Fuzz), or it minimizes and records the
		// scribble, not the input that failed.
		data = bytes.Clone(data)
		events := pool.New("fuzz", 8, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
		sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			defer events.Put(ev)
			if err := s41fuzzCheck(ev); err != nil {
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
		s41fuzzNoPanic(t, p)
		// The parser keeps nothing of the frame: scribbling over it must
		// not change what a later message gives.
		for i := range data {
			data[i] = 'x'
		}
		if err := p.HandleBytes(context.Background(), canary[venue], 1); err != nil && !errors.Is(err, ErrNoSnapshot) {
			t.Fatalf("canary after scribbling: %v", err)
		}
	})
}

// venueSeedFiles are the globs of every message the repository holds of
// a venue: its fixtures (any extension but the SOURCES notes), the doc
// examples, the order answers (they come on the trading connection) and
// the shared files.
func venueSeedFiles(venue string) []string {
	return []string{
		filepath.Join("testdata", venue, "*.json"), filepath.Join("testdata", venue, "*.txt"),
		filepath.Join("testdata", "docs", venue+"_*"), filepath.Join("testdata", "orders", venue+"_*"),
		filepath.Join(sharedVenues, venue+"_*"),
	}
}

// canary is a valid message of each venue.
var canary = map[schema.Venue][]byte{
	schema.VenueCoinbase: []byte(`{"type":"match","trade_id":1,"side":"sell","size":"1","price":"2","product_id":"BTC-USD","sequence":3,"time":"2021-04-17T16:43:37.089723Z"}`),
	schema.VenueKraken:   []byte(`{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":1.5,"qty":2,"trade_id":1,"timestamp":"2024-05-27T12:43:11.798009Z"}]}`),
	schema.VenueOKX:      []byte(`{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1"}]}`),
	schema.VenueBybit:    []byte(`{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","lastPrice":"1"},"cs":1,"ts":1}`),
}

func FuzzCoinbaseFrame(f *testing.F) { fuzzVenue(f, schema.VenueCoinbase) }
func FuzzKrakenFrame(f *testing.F)   { fuzzVenue(f, schema.VenueKraken) }
func FuzzOKXFrame(f *testing.F)      { fuzzVenue(f, schema.VenueOKX) }
func FuzzBybitFrame(f *testing.F)    { fuzzVenue(f, schema.VenueBybit) }
