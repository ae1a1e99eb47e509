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

// seeds adds every fixture and shared Binance file to the corpus.
func seeds(f *testing.F) {
	for _, pattern := range venueSeedFiles("binance") {
		files, _ := filepath.Glob(pattern)
		for _, path := range files {
			if b, err := os.ReadFile(path); err == nil {
				f.Add(b)
			}
		}
	}
	// Envelopes the fixtures do not show: the WS-API wrapper without
	// subscriptionId or spread over lines, and a wrapper around an array.
	for _, s := range []string{
		`{"event":{"e":"eventStreamTerminated","E":1728973001334}}`,
		"{ \"subscriptionId\": 0,\n \"event\": { \"e\": \"listStatus\", \"E\": 1 } }",
		`{"event":[{"e":"TRADE_LITE"}]}`,
		`{"subscriptionId":1,"event":{"e":"ALGO_UPDATE","E":1,"T":1,"o":{"aid":1,"s":"BTCUSDT","S":"BUY","X":"TRIGGERED"}}}`,
		// Words the docs do not list, with and without a fill.
		bnExecReport("TRADE", "DONE_SOMEHOW", "0.1", "1.0", "1"),
		bnOrderTradeUpdate("TELEPORT", "NEW", "0", "0", "1"),
	} {
		f.Add([]byte(s))
	}
}

// fuzzParser returns a parser whose sink checks every event it is given.
func fuzzParser(t *testing.T) (*Parser, *pool.Pool[*schema.CanonicalEvent]) {
	events := pool.New("fuzz", 8, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		defer events.Put(ev)
		if err := s41fuzzCheck(ev); err != nil {
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
		data = bytes.Clone(data) // scribbled over below: the engine's own must stay as it is
		p, events := fuzzParser(t)
		frame := &schema.WsFrame{Provider: schema.VenueBinance, Data: data, ReceivedAt: 1}
		checkResult(t, p.HandleFrame(context.Background(), frame), events)
		s41fuzzNoPanic(t, p)
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
func fuzzKind(f *testing.F, kind int) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, events := fuzzParser(t)
		checkResult(t, p.run(context.Background(), kind, data, []byte("btcusdt"), 1), events)
		s41fuzzNoPanic(t, p)
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

// USDⓈ-M and COIN-M order updates (binance_futures_user.go).
func FuzzBinanceFuturesOrder(f *testing.F) { fuzzKind(f, bnFuturesOrder) }
func FuzzBinanceAlgoOrder(f *testing.F)    { fuzzKind(f, bnAlgoOrder) }
func FuzzBinanceTriggerReject(f *testing.F) {
	fuzzKind(f, bnTriggerReject)
}

// Account updates (binance_account.go): the single-event kinds, the entry
// kinds, and the messages split into entries.
func FuzzBinanceBalanceDelta(f *testing.F)   { fuzzKind(f, bnBalanceDelta) }
func FuzzBinanceAccountConfig(f *testing.F)  { fuzzKind(f, bnAccountConfig) }
func FuzzBinanceSpotBalance(f *testing.F)    { fuzzKind(f, bnSpotBalanceEntry) }
func FuzzBinanceFuturesBalance(f *testing.F) { fuzzKind(f, bnBalanceEntry) }
func FuzzBinancePosition(f *testing.F)       { fuzzKind(f, bnMarginCallEntry) }

// fuzzSplit fuzzes a message that is split into entries.
func fuzzSplit(f *testing.F, kind int) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, events := fuzzParser(t)
		checkResult(t, p.binanceEntries(context.Background(), kind, data, 1), events)
		s41fuzzNoPanic(t, p)
	})
}

func FuzzBinanceAccountPosition(f *testing.F) { fuzzSplit(f, bnSplitAccountPosition) }
func FuzzBinanceAccountUpdate(f *testing.F)   { fuzzSplit(f, bnSplitAccountUpdate) }
func FuzzBinanceMarginCall(f *testing.F)      { fuzzSplit(f, bnSplitMarginCall) }
