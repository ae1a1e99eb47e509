package normalize

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// seeds adds every fixture and shared Binance file to the corpus.
func seeds(f *testing.F) {
	for _, pattern := range []string{"testdata/binance/*.json", filepath.Join(sharedVenues, "binance_*")} {
		files, _ := filepath.Glob(pattern)
		for _, path := range files {
			if b, err := os.ReadFile(path); err == nil {
				f.Add(b)
			}
		}
	}
}

// fuzzParser returns a parser whose sink checks every event it is given.
func fuzzParser(t *testing.T) (*Binance, *pool.Pool[*schema.CanonicalEvent]) {
	events := pool.New("fuzz", 8, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		defer events.Put(ev)
		if err := ev.Validate(); err != nil {
			t.Fatalf("published an invalid event: %v: %+v", err, ev)
		}
		if ev.Venue != schema.VenueBinance || ev.IngestTS != 1 {
			t.Fatalf("bad stamp: %+v", ev)
		}
		return nil
	})
	return NewBinance(events, sink, &Options{KeepRaw: true}), events
}

// checkResult asserts the invariants every input must keep.
func checkResult(t *testing.T, err error, events *pool.Pool[*schema.CanonicalEvent]) {
	var pe *ParseError
	if err != nil && !errors.As(err, &pe) {
		t.Fatalf("error is not a *ParseError: %v", err)
	}
	if pe != nil && (pe.Venue != schema.VenueBinance || pe.Stream == "" || pe.Err == nil) {
		t.Fatalf("incomplete ParseError: %+v", pe)
	}
	if n := events.Stats().InUse; n != 0 {
		t.Fatalf("%d events not returned", n)
	}
}

func FuzzBinanceFrame(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, events := fuzzParser(t)
		frame := &schema.WsFrame{Provider: schema.VenueBinance, Data: data, ReceivedAt: 1}
		checkResult(t, p.HandleFrame(context.Background(), frame), events)
		// The parser keeps nothing of the frame: scribbling over it after
		// the call must not change a later parse.
		for i := range data {
			data[i] = 'x'
		}
		checkResult(t, p.HandleBytes(context.Background(), []byte(`{"result":null,"id":1}`), 1), events)
	})
}

// fuzzKind fuzzes the decoder of one message type directly, so that the
// fuzzer spends its time inside that type's fields.
func fuzzKind(f *testing.F, kind binanceKind) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, events := fuzzParser(t)
		checkResult(t, p.emit(context.Background(), kind, []byte("btcusdt@x"), data, 1), events)
	})
}

func FuzzBinanceTrade(f *testing.F)      { fuzzKind(f, bnTrade) }
func FuzzBinanceAggTrade(f *testing.F)   { fuzzKind(f, bnAggTrade) }
func FuzzBinanceBookTicker(f *testing.F) { fuzzKind(f, bnBookTicker) }
func FuzzBinanceDepth(f *testing.F)      { fuzzKind(f, bnDepth) }
func FuzzBinanceDepthSnap(f *testing.F)  { fuzzKind(f, bnPartialDepth) }
func FuzzBinanceKline(f *testing.F)      { fuzzKind(f, bnKline) }
func FuzzBinanceTicker(f *testing.F)     { fuzzKind(f, bnTicker) }
func FuzzBinanceMiniTicker(f *testing.F) { fuzzKind(f, bnMiniTicker) }
func FuzzBinanceExec(f *testing.F)       { fuzzKind(f, bnExec) }
func FuzzBinanceMarkPrice(f *testing.F)  { fuzzKind(f, bnMarkPrice) }
func FuzzBinanceForceOrder(f *testing.F) { fuzzKind(f, bnForceOrder) }
func FuzzBinanceControl(f *testing.F)    { fuzzKind(f, bnVenueError) }

// FuzzScanner checks the hand-written scanner against goccy: both accept
// the same objects, and string values unquote to what goccy decodes.
func FuzzScanner(f *testing.F) {
	seeds(f)
	for _, s := range []string{`{}`, `{"a":"\u00e9\ud83d\ude00\n"}`, `{"a":[1,-0.5e+3,true,null,{}]}`, `{"a":01}`, `{"a":"x"} x`, `[1]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var it iter
		var scratch []byte
		for it.object(data); it.next(); {
			// The loose skipper of envelopes ends every valid value where
			// the strict one does.
			if end, err := skipLoose(it.val, 0); err != nil || end != len(it.val) {
				t.Fatalf("skipLoose(%q) = %d, %v; want %d", it.val, end, err, len(it.val))
			}
			if len(it.val) > 0 && it.val[0] == '"' {
				got, err := unquote(it.val, &scratch)
				var want string
				if gerr := json.Unmarshal(it.val, &want); (err == nil) != (gerr == nil) || (err == nil && string(got) != want && validUTF16(it.val) && utf8.Valid(got)) {
					t.Fatalf("unquote(%q) = %q, %v; goccy %q, %v", it.val, got, err, want, gerr)
				}
			}
		}
		mine := it.finish() == nil
		i := skipSpace(data, 0)
		theirs := json.Valid(data) && i < len(data) && data[i] == '{'
		if mine != theirs {
			t.Fatalf("scanner accepts=%v, goccy accepts=%v for %q", mine, theirs, data)
		}
	})
}

// validUTF16 reports whether a JSON string has no lone surrogate escapes,
// whose decoding differs between libraries (both replace them, in
// different ways).
func validUTF16(v []byte) bool {
	for i := 0; i+5 < len(v); i++ {
		if v[i] == '\\' && v[i+1] == 'u' && (v[i+2] == 'd' || v[i+2] == 'D') {
			return false
		}
	}
	return true
}
