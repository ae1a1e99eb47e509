package venuesim

import "strconv"

// The encoders write Binance's spot payloads byte for byte in field order,
// with eight decimals as Binance prints them.

func appendTrade(b []byte, s *symbolState, eventMs int64, price, qty int64, buyerMaker bool) []byte {
	b = append(b, `{"e":"trade","E":`...)
	b = strconv.AppendInt(b, eventMs, 10)
	b = append(b, `,"s":"`...)
	b = append(b, s.name...)
	b = append(b, `","t":`...)
	b = strconv.AppendUint(b, s.tradeID, 10)
	b = append(b, `,"p":"`...)
	b = fmtDec(b, price)
	b = append(b, `","q":"`...)
	b = fmtDec(b, qty)
	b = append(b, `","T":`...)
	b = strconv.AppendInt(b, eventMs, 10)
	b = append(b, `,"m":`...)
	b = strconv.AppendBool(b, buyerMaker)
	return append(b, `,"M":true}`...)
}

func appendAggTrade(b []byte, s *symbolState, eventMs int64, price, qty int64, buyerMaker bool) []byte {
	b = append(b, `{"e":"aggTrade","E":`...)
	b = strconv.AppendInt(b, eventMs, 10)
	b = append(b, `,"s":"`...)
	b = append(b, s.name...)
	b = append(b, `","a":`...)
	b = strconv.AppendUint(b, s.aggID, 10)
	b = append(b, `,"p":"`...)
	b = fmtDec(b, price)
	b = append(b, `","q":"`...)
	b = fmtDec(b, qty)
	b = append(b, `","f":`...)
	b = strconv.AppendUint(b, s.tradeID, 10)
	b = append(b, `,"l":`...)
	b = strconv.AppendUint(b, s.tradeID, 10)
	b = append(b, `,"T":`...)
	b = strconv.AppendInt(b, eventMs, 10)
	b = append(b, `,"m":`...)
	b = strconv.AppendBool(b, buyerMaker)
	return append(b, `,"M":true}`...)
}

func appendBookTicker(b []byte, s *symbolState) []byte {
	b = append(b, `{"u":`...)
	b = strconv.AppendUint(b, s.updID, 10)
	b = append(b, `,"s":"`...)
	b = append(b, s.name...)
	b = append(b, `","b":"`...)
	b = fmtDec(b, s.bestBid)
	b = append(b, `","B":"`...)
	b = fmtDec(b, s.bids[0])
	b = append(b, `","a":"`...)
	b = fmtDec(b, s.bestAsk())
	b = append(b, `","A":"`...)
	b = fmtDec(b, s.asks[0])
	return append(b, `"}`...)
}

func appendLevels(b []byte, lv []level) []byte {
	b = append(b, '[')
	for i, l := range lv {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `["`...)
		b = fmtDec(b, l.price)
		b = append(b, `","`...)
		b = fmtDec(b, l.qty)
		b = append(b, `"]`...)
	}
	return append(b, ']')
}

func appendDepthUpdate(b []byte, s *symbolState, eventMs int64, bids, asks []level, first, last uint64) []byte {
	b = append(b, `{"e":"depthUpdate","E":`...)
	b = strconv.AppendInt(b, eventMs, 10)
	b = append(b, `,"s":"`...)
	b = append(b, s.name...)
	b = append(b, `","U":`...)
	b = strconv.AppendUint(b, first, 10)
	b = append(b, `,"u":`...)
	b = strconv.AppendUint(b, last, 10)
	b = append(b, `,"b":`...)
	b = appendLevels(b, bids)
	b = append(b, `,"a":`...)
	b = appendLevels(b, asks)
	return append(b, '}')
}

// bookLevels lists up to n non-empty levels of one side, best first.
func bookLevels(s *symbolState, bidSide bool, n int) []level {
	var out []level
	for i := 0; i < len(s.bids) && len(out) < n; i++ {
		if bidSide {
			if s.bids[i] > 0 {
				out = append(out, level{s.bestBid - int64(i)*s.tick, s.bids[i]})
			}
		} else if s.asks[i] > 0 {
			out = append(out, level{s.bestAsk() + int64(i)*s.tick, s.asks[i]})
		}
	}
	return out
}

func appendDepthSnapshot(b []byte, s *symbolState, limit int) []byte {
	b = append(b, `{"lastUpdateId":`...)
	b = strconv.AppendUint(b, s.updID, 10)
	b = append(b, `,"bids":`...)
	b = appendLevels(b, bookLevels(s, true, limit))
	b = append(b, `,"asks":`...)
	b = appendLevels(b, bookLevels(s, false, limit))
	return append(b, '}')
}

func appendKline(b []byte, s *symbolState, eventMs int64, interval string, k *kline, lengthMs int64, closed bool) []byte {
	b = append(b, `{"e":"kline","E":`...)
	b = strconv.AppendInt(b, eventMs, 10)
	b = append(b, `,"s":"`...)
	b = append(b, s.name...)
	b = append(b, `","k":{"t":`...)
	b = strconv.AppendInt(b, k.start, 10)
	b = append(b, `,"T":`...)
	b = strconv.AppendInt(b, k.start+lengthMs-1, 10)
	b = append(b, `,"s":"`...)
	b = append(b, s.name...)
	b = append(b, `","i":"`...)
	b = append(b, interval...)
	b = append(b, `","f":`...)
	b = strconv.AppendUint(b, k.firstTrade, 10)
	b = append(b, `,"L":`...)
	b = strconv.AppendUint(b, k.lastTrade, 10)
	for _, f := range [...]struct {
		key string
		v   int64
	}{{"o", k.open}, {"c", k.close}, {"h", k.high}, {"l", k.low}, {"v", k.volume}} {
		b = append(b, `,"`...)
		b = append(b, f.key...)
		b = append(b, `":"`...)
		b = fmtDec(b, f.v)
		b = append(b, '"')
	}
	b = append(b, `,"n":`...)
	b = strconv.AppendUint(b, k.trades, 10)
	b = append(b, `,"x":`...)
	b = strconv.AppendBool(b, closed)
	b = append(b, `,"q":"`...)
	b = fmtDec(b, k.quoteVol)
	return append(b, `","V":"0.00000000","Q":"0.00000000","B":"0"}}`...)
}

func appendCombined(b []byte, stream string, payload []byte) []byte {
	b = append(b, `{"stream":"`...)
	b = append(b, stream...)
	b = append(b, `","data":`...)
	b = append(b, payload...)
	return append(b, '}')
}
