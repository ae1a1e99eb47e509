package meltica_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// Contract 6: "No panic, ever, on venue input". A Go stack overflow is not
// a panic a parser can recover: it ends the process. A message of deeply
// nested arrays or objects — within wsclient's default ReadLimit (16 MiB)
// — through every venue's parser, as a bare value and inside each venue's
// envelope, must come back as an error (or be skipped), not crash.
func TestS25ctDeepNestingDoesNotCrash(t *testing.T) {
	ctx := context.Background()
	// 2,000,000 levels; 200,000 under -race (143 s of the root package's
	// ten minutes at load 30), still twenty times any decoder's depth cap.
	depth := 2_000_000
	if raceEnabled {
		depth = 200_000
	}
	deepArr := append(bytes.Repeat([]byte{'['}, depth), bytes.Repeat([]byte{']'}, depth)...)
	deepObj := append(bytes.Repeat([]byte(`{"a":`), depth), append([]byte{'1'}, bytes.Repeat([]byte{'}'}, depth)...)...)
	wrap := func(prefix string, inner []byte, suffix string) []byte {
		return append(append([]byte(prefix), inner...), suffix...)
	}
	inputs := map[string][]byte{
		"array":           deepArr,
		"object":          deepObj,
		"binance":         wrap(`{"e":"trade","E":1,"s":"BTCUSDT","x":`, deepArr, `}`),
		"binance-stream":  wrap(`{"stream":"btcusdt@trade","data":`, deepObj, `}`),
		"okx":             wrap(`{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":`, deepArr, `}`),
		"bybit":           wrap(`{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":`, deepArr, `}`),
		"coinbase":        wrap(`{"channel":"market_trades","events":`, deepArr, `}`),
		"kraken":          wrap(`{"channel":"trade","type":"update","data":`, deepArr, `}`),
		"kraken-v1":       wrap(`[1,`, deepArr, `,"trade","XBT/USD"]`),
		"binance-unknown": wrap(`{"e":"somethingNew","x":`, deepObj, `}`),
	}
	rest := map[string]func([]byte) error{
		"ParseBinanceExchangeInfo": func(b []byte) error { _, err := normalize.ParseBinanceExchangeInfo(b); return err },
		"ParseBybitInstruments":    func(b []byte) error { _, err := normalize.ParseBybitInstruments(b); return err },
		"ParseCoinbaseProducts":    func(b []byte) error { _, err := normalize.ParseCoinbaseProducts(b); return err },
		"ParseKrakenAssetPairs":    func(b []byte) error { _, err := normalize.ParseKrakenAssetPairs(b); return err },
		"ParseOKXInstruments":      func(b []byte) error { _, err := normalize.ParseOKXInstruments(b); return err },
	}
	for name, in := range inputs {
		if raceEnabled && name != "array" && name != "binance-stream" {
			// Under -race a bare array and an object in an envelope
			// only: every input costs the same there whatever its depth
			// (the decoders recurse to their cap of 10,000, and the
			// detector shadows each stack they grow: 4.3 s CPU for the
			// ten at 200,000 levels and at 20,000 alike), and the
			// parsers run on the test's goroutine alone, so the detector
			// has nothing to find. All ten run without -race (CI's
			// no-race step runs this test: .ci/racetests lists it).
			continue
		}
		for fn, parse := range rest { // the venues' REST answers are venue input too
			if err := parse(in); err == nil {
				t.Errorf("%s of %s: no error", fn, name)
			}
		}
		for venue, mk := range s25ctParsers {
			events := schema.NewPools(nil).Events
			p := mk(events, &s25ctPutSink{events: events}, nil)
			err := p.HandleBytes(ctx, in, 1)
			if !s25ctErrOK(err) {
				t.Errorf("%s via %s: untyped error %T", name, venue, err)
			}
		}
	}
}
