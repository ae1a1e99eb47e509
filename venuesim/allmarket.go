package venuesim

import (
	"slices"

	"github.com/goccy/go-json/jsontext"
)

// allMarketStreams are the all-market ticker arrays Binance spot lists
// ("WebSocket Streams": "All Market Mini Tickers Stream", !miniTicker@arr,
// and "All Market Tickers Stream", !ticker@arr, deprecated by the spot
// Changelog of 2025-11-14 but still served; the all-market book ticker
// !bookTicker was retired), each an array of the payloads of the symbol
// stream kind names, pushed every 1000 ms.
var allMarketStreams = [...]struct{ name, kind string }{
	{"!miniTicker@arr", "miniTicker"}, {"!ticker@arr", "ticker"},
}

// allMarketStream is the index of name in allMarketStreams, or -1.
func allMarketStream(name string) int {
	for i, a := range allMarketStreams {
		if a.name == name {
			return i
		}
	}
	return -1
}

// tickerArrays pushes, at ms (the 1000 ms cadence's ticks), each
// all-market array somebody listens to: the tickers of the symbols that
// traded since the previous tick ("only tickers that have changed will be
// present in the array"; Binance does not say whether a move of the book
// alone counts: here a trade does), each element its symbol's own
// stream's payload with E the tick. No symbol traded: nothing is sent.
// Runs on the generator's goroutine; takes the market lock.
func (v *Venue) tickerArrays(ms int64) {
	m := v.mkt
	m.mu.Lock()
	var arrays [len(allMarketStreams)][]byte
	for i, a := range allMarketStreams {
		if m.arrayRefs[i] == 0 {
			continue
		}
		var elems []jsontext.Value
		for _, s := range m.symbols {
			if s.day.count != s.arrayCount {
				elems = append(elems, symbolTicker(s, ms, a.kind))
			}
		}
		if elems != nil {
			arrays[i] = marshal(elems)
		}
	}
	for _, s := range m.symbols {
		s.arrayCount = s.day.count
	}
	m.mu.Unlock()
	for i, p := range arrays {
		if p != nil {
			v.broadcast([]string{allMarketStreams[i].name}, p)
		}
	}
}

// symbolTicker is the payload of the symbol's <symbol>@<kind> ticker
// stream at ms, formatted whoever listens to that stream. Caller holds
// the market lock.
func symbolTicker(s *symbolState, ms int64, kind string) []byte {
	i := slices.Index(tickerKinds[:], kind)
	refs := s.tickerRefs
	clear(s.tickerRefs[:])
	s.tickerRefs[i] = 1
	out := tickers(s, ms)
	s.tickerRefs = refs
	return out[i]
}
