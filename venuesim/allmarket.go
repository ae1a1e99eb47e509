package venuesim

// allMarketStreams are the all-market ticker arrays Binance spot lists
// ("WebSocket Streams": "All Market Mini Tickers Stream", !miniTicker@arr,
// and "All Market Tickers Stream", !ticker@arr, deprecated by the spot
// Changelog of 2025-11-14 but still served; the all-market book ticker
// !bookTicker was retired), and the rolling window arrays ("All Market
// Rolling Window Statistics Streams", !ticker_<window>@arr, windows 1h,
// 4h and 1d, events 1hTicker, 4hTicker, 1dTicker), each an array of the
// payloads of the symbol stream tickerKinds[kind], pushed every 1000 ms
// ("Update Speed: 1000ms").
var allMarketStreams = [...]struct {
	name string
	kind int // index in tickerKinds
}{
	{"!miniTicker@arr", 1}, {"!ticker@arr", 0},
	{"!ticker_1h@arr", firstRolling}, {"!ticker_4h@arr", firstRolling + 1}, {"!ticker_1d@arr", firstRolling + 2},
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

// tickerArrays pushes, at ms (the 1000 ms cadence's ticks), the symbol
// tickers (symbolTickers) and each all-market array somebody listens to: the tickers of the symbols that
// traded since the previous tick ("only tickers that have changed will be
// present in the array"; Binance does not say whether a move of the book
// alone counts: here a trade does), each element its symbol's own
// stream's payload with E the tick. No symbol traded: nothing is sent.
// The arrays are formatted into the venue's reused buffers under the
// market lock (no allocation a symbol) and handed out after it. Runs on
// the generator's goroutine (its wire and buffers).
func (v *Venue) tickerArrays(ms int64) {
	m := v.mkt
	arrays := &v.arrayBufs
	m.mu.Lock()
	for i, a := range allMarketStreams {
		arrays[i] = arrays[i][:0]
		if m.arrayRefs[i] == 0 {
			continue
		}
		for _, s := range m.symbols {
			if s.day.count != s.arrayCount {
				arrays[i] = append(arrays[i], ',')
				arrays[i] = v.gen.appendTicker(arrays[i], s, ms, a.kind)
			}
		}
		if len(arrays[i]) > 0 {
			arrays[i][0] = '['
			arrays[i] = append(arrays[i], ']')
		}
	}
	for _, s := range m.symbols {
		s.arrayCount = s.day.count
	}
	v.tickerBuf, v.tickerPushes = v.symbolTickers(v.tickerBuf[:0], v.tickerPushes[:0], ms)
	m.mu.Unlock()
	for i, p := range arrays {
		if len(p) > 0 {
			v.broadcast([]string{allMarketStreams[i].name}, p)
		}
	}
	from := 0
	for _, p := range v.tickerPushes {
		v.broadcast([]string{p.stream}, v.tickerBuf[from:p.end])
		from = p.end
	}
}
