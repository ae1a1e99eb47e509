package normalize

import "github.com/meltica/meltica/schema"

// Bybit's message types as tables. Keys are matched exactly: publicTrade
// has both "s" (symbol) and "S" (side).

func liqSide(t *target) *schema.Side     { return &t.ev.Liquidation.Side }
func liqPrice(t *target) *schema.Decimal { return &t.ev.Liquidation.Price }
func liqQty(t *target) *schema.Decimal   { return &t.ev.Liquidation.Qty }

var (
	bybitTrade = newTable("publicTrade", "pvS",
		fMillis("T", mainTime),
		fSymbol("s"),
		fSide("S", tradeSide),
		fPrice("v", tradeQty),
		fPrice("p", tradePrice),
		fID("i", tradeID),
		field{key: "seq", kind: kSeq, u64: seq},
	)
	bybitBook = newTable("orderbook", "ba",
		fSymbol("s"),
		fLevels("b", bids),
		fLevels("a", asks),
		fUint("u", func(t *target) *uint64 { return &t.ev.Book.LastSeq }),
	)
	bybitTicker = newTable("tickers", "",
		fSymbol("symbol"),
		fPrice("lastPrice", tkLast),
		fPrice("highPrice24h", tkHigh),
		fPrice("lowPrice24h", tkLow),
		fPrice("prevPrice24h", tkOpen),
		fPrice("volume24h", tkVolume),
		fPrice("turnover24h", tkQuoteVol),
		field{key: "price24hPcnt", kind: kPct, dec: tkPct},
		fPrice("bid1Price", tkBid),
		fPrice("bid1Size", tkBidQty),
		fPrice("ask1Price", tkAsk),
		fPrice("ask1Size", tkAskQty),
		field{key: "markPrice", kind: kDecOrNone, dec: func(t *target) *schema.Decimal { return &t.ev.Ticker.MarkPrice }},
		field{key: "indexPrice", kind: kDecOrNone, dec: func(t *target) *schema.Decimal { return &t.ev.Ticker.IndexPrice }},
		field{key: "openInterest", kind: kDecOrNone, dec: func(t *target) *schema.Decimal { return &t.ev.Ticker.OpenInt }},
		field{key: "fundingRate", kind: kDecOrNone, dec: func(t *target) *schema.Decimal { return &t.ev.Ticker.FundingRate }},
		fMillis("nextFundingTime", func(t *target) *int64 { return &t.ev.Ticker.NextFundingTime }),
	)
	bybitKline = newTable("kline", "",
		fMillis("start", klOpenTime),
		fMillis("end", func(t *target) *int64 { return &t.ev.Kline.CloseTime }),
		fWord("interval", map[string]string{
			"1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "120": "2h",
			"240": "4h", "360": "6h", "720": "12h", "D": "1d", "W": "1w", "M": "1M",
		}, klInterval),
		fPrice("open", klOpen),
		fPrice("close", klClose),
		fPrice("high", klHigh),
		fPrice("low", klLow),
		fPrice("volume", klVol),
		fPrice("turnover", func(t *target) *schema.Decimal { return &t.ev.Kline.QuoteVolume }),
		field{key: "confirm", kind: kBool, flag: func(t *target) *bool { return &t.ev.Kline.Closed }},
		fMillis("timestamp", mainTime),
	)
	bybitAllLiquidation = newTable("allLiquidation", "pvS",
		fMillis("T", mainTime),
		fSymbol("s"),
		field{key: "S", kind: kSide, side: liqSide, invert: true},
		fPrice("v", liqQty),
		fPrice("p", liqPrice),
	)
	bybitLiquidation = newTable("liquidation", "",
		fSymbol("symbol"),
		field{key: "side", kind: kSide, side: liqSide, invert: true},
		fPrice("price", liqPrice),
		fPrice("size", liqQty),
		fMillis("updatedTime", mainTime),
	)
	bybitOp = newTable("op", "",
		fReqID("req_id"),
		fText("ret_msg", reason),
	)
)
