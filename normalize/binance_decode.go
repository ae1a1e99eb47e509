package normalize

import (
	"github.com/meltica/meltica/schema"
)

// Binance's message types as tables: which key goes where. Keys are matched
// exactly ("t" is not "T"); keys a table does not name are skipped, so
// Binance may add or drop fields. ExchangeTS is the target's main time, or
// its fallback when the message has no main time.

func bTrade(name, key string) *table { // trade ids are in "t", aggTrade ids in "a"
	return newTable(name, key+"pq",
		field{key: key, kind: kSeqID, u64: seq, id: func(t *target) *schema.ID { return &t.ev.Trade.ID }},
		fSymbol("s"),
		fPrice("p", func(t *target) *schema.Decimal { return &t.ev.Trade.Price }),
		fPrice("q", func(t *target) *schema.Decimal { return &t.ev.Trade.Qty }),
		fMillis("T", mainTime), // trade time
		fMillis("E", fallbackTime),
		field{key: "m", kind: kMakerSide, side: func(t *target) *schema.Side { return &t.ev.Trade.Side }},
	)
}

var (
	binanceTrade      = bTrade("trade", "t")
	binanceAggTrade   = bTrade("aggTrade", "a")
	binanceBookTicker = newTable("bookTicker", "ubBaA",
		fUint("u", seq),
		fSymbol("s"),
		fPrice("b", func(t *target) *schema.Decimal { return &t.ev.BBO.BidPrice }),
		fPrice("B", func(t *target) *schema.Decimal { return &t.ev.BBO.BidQty }),
		fPrice("a", func(t *target) *schema.Decimal { return &t.ev.BBO.AskPrice }),
		fPrice("A", func(t *target) *schema.Decimal { return &t.ev.BBO.AskQty }),
		fMillis("E", mainTime),
		fMillis("T", fallbackTime),
	)
	binanceDepth = newTable("depthUpdate", "Uuba",
		fSymbol("s"),
		fUint("U", func(t *target) *uint64 { return &t.ev.Book.FirstSeq }),
		fUint("u", func(t *target) *uint64 { return &t.ev.Book.LastSeq }),
		fUint("pu", func(t *target) *uint64 { return &t.ev.Book.PrevSeq }), // futures
		fLevels("b", bids),
		fLevels("a", asks),
		fMillis("E", mainTime),
		fMillis("T", fallbackTime),
	)
	binancePartialDepth = newTable("depth", "",
		fUint("lastUpdateId", func(t *target) *uint64 { return &t.ev.Book.LastSeq }),
		fLevels("bids", bids),
		fLevels("asks", asks),
	)
	binanceKline = newTable("kline", "k",
		fSymbol("s"),
		fMillis("E", mainTime),
		fObject("k", newTable("kline", "tTiohlcvx",
			fMillis("t", func(t *target) *int64 { return &t.ev.Kline.OpenTime }),
			fMillis("T", func(t *target) *int64 { return &t.ev.Kline.CloseTime }),
			field{key: "i", kind: kWord, words: internTable("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"),
				str: func(t *target) *string { return &t.ev.Kline.Interval }},
			field{key: "L", kind: kSeq, u64: seq}, // last trade id, -1 when none
			fPrice("o", func(t *target) *schema.Decimal { return &t.ev.Kline.Open }),
			fPrice("c", func(t *target) *schema.Decimal { return &t.ev.Kline.Close }),
			fPrice("h", func(t *target) *schema.Decimal { return &t.ev.Kline.High }),
			fPrice("l", func(t *target) *schema.Decimal { return &t.ev.Kline.Low }),
			fPrice("v", func(t *target) *schema.Decimal { return &t.ev.Kline.Volume }),
			fPrice("q", func(t *target) *schema.Decimal { return &t.ev.Kline.QuoteVolume }),
			fUint("n", func(t *target) *uint64 { return &t.ev.Kline.TradeCount }),
			field{key: "x", kind: kBool, flag: func(t *target) *bool { return &t.ev.Kline.Closed }},
		)),
	)
	// binanceTicker decodes 24hrTicker and 24hrMiniTicker, whose fields
	// are a subset of the full ticker's.
	binanceTicker = newTable("24hrTicker", "cohlvq",
		fSymbol("s"),
		fMillis("E", mainTime),
		fDecimal("p", func(t *target) *schema.Decimal { return &t.ev.Ticker.PriceChange }),
		fDecimal("P", func(t *target) *schema.Decimal { return &t.ev.Ticker.ChangePct }),
		fPrice("c", func(t *target) *schema.Decimal { return &t.ev.Ticker.Last }),
		fPrice("Q", func(t *target) *schema.Decimal { return &t.ev.Ticker.LastQty }),
		fPrice("b", func(t *target) *schema.Decimal { return &t.ev.Ticker.BidPrice }),
		fPrice("B", func(t *target) *schema.Decimal { return &t.ev.Ticker.BidQty }),
		fPrice("a", func(t *target) *schema.Decimal { return &t.ev.Ticker.AskPrice }),
		fPrice("A", func(t *target) *schema.Decimal { return &t.ev.Ticker.AskQty }),
		fPrice("o", func(t *target) *schema.Decimal { return &t.ev.Ticker.Open }),
		fPrice("h", func(t *target) *schema.Decimal { return &t.ev.Ticker.High }),
		fPrice("l", func(t *target) *schema.Decimal { return &t.ev.Ticker.Low }),
		fPrice("v", func(t *target) *schema.Decimal { return &t.ev.Ticker.Volume }),
		fPrice("q", func(t *target) *schema.Decimal { return &t.ev.Ticker.QuoteVolume }),
		fMillis("O", func(t *target) *int64 { return &t.ev.Ticker.WindowOpen }),
		fMillis("C", func(t *target) *int64 { return &t.ev.Ticker.WindowClose }),
		fUint("n", func(t *target) *uint64 { return &t.ev.Ticker.TradeCount }),
		field{key: "L", kind: kSeq, u64: seq}, // last trade id, -1 when none
	)
	binanceMarkPrice = newTable("markPriceUpdate", "p",
		fSymbol("s"),
		fMillis("E", mainTime),
		fPrice("p", func(t *target) *schema.Decimal { return &t.ev.Mark.MarkPrice }),
		fPrice("i", func(t *target) *schema.Decimal { return &t.ev.Mark.IndexPrice }),
		fPrice("P", func(t *target) *schema.Decimal { return &t.ev.Mark.EstSettlePrice }),
		field{key: "r", kind: kDecOrNone, dec: func(t *target) *schema.Decimal { return &t.ev.Mark.FundingRate }},
		fMillis("T", func(t *target) *int64 { return &t.ev.Mark.NextFundingTime }),
	)
	binanceForceOrder = newTable("forceOrder", "o",
		fMillis("E", fallbackTime),
		fObject("o", newTable("forceOrder", "sSpq",
			fSymbol("s"),
			field{key: "S", kind: kSide, side: func(t *target) *schema.Side { return &t.ev.Liquidation.Side }},
			fPrice("p", func(t *target) *schema.Decimal { return &t.ev.Liquidation.Price }),
			fPrice("q", func(t *target) *schema.Decimal { return &t.ev.Liquidation.Qty }),
			fPrice("ap", func(t *target) *schema.Decimal { return &t.ev.Liquidation.AvgPrice }),
			fPrice("z", func(t *target) *schema.Decimal { return &t.ev.Liquidation.FilledQty }),
			fEnum("X", binanceStatuses, func(t *target) *uint8 { return (*uint8)(&t.ev.Liquidation.Status) }),
			fMillis("T", mainTime), // trade time
		)),
	)
	// binanceExec maps every executionReport field; unknown enum words stay
	// Unknown rather than drop the report.
	binanceExec = newTable("executionReport", "cSxXi",
		fSymbol("s"),
		fMillis("E", mainTime),
		fID("c", func(t *target) *schema.ID { return &t.ev.Exec.ClientOrderID }),
		fID("C", func(t *target) *schema.ID { return &t.ev.Exec.OrigClientOrderID }),
		fID("i", func(t *target) *schema.ID { return &t.ev.Exec.VenueOrderID }),
		fID("t", func(t *target) *schema.ID { return &t.ev.Exec.TradeID }),
		fID("N", func(t *target) *schema.ID { return &t.ev.Exec.FeeAsset }),
		field{key: "S", kind: kSide, side: func(t *target) *schema.Side { return &t.ev.Exec.Side }},
		fEnum("o", binanceOrderTypes, func(t *target) *uint8 { return (*uint8)(&t.ev.Exec.Type) }),
		fEnum("f", binanceTIFs, func(t *target) *uint8 { return (*uint8)(&t.ev.Exec.TimeInForce) }),
		fEnum("x", binanceExecTypes, func(t *target) *uint8 { return (*uint8)(&t.ev.Exec.ExecType) }),
		fEnum("X", binanceStatuses, func(t *target) *uint8 { return (*uint8)(&t.ev.Exec.Status) }),
		fPrice("q", func(t *target) *schema.Decimal { return &t.ev.Exec.Qty }),
		fPrice("p", func(t *target) *schema.Decimal { return &t.ev.Exec.Price }),
		fPrice("P", func(t *target) *schema.Decimal { return &t.ev.Exec.StopPrice }),
		fPrice("l", func(t *target) *schema.Decimal { return &t.ev.Exec.LastFillQty }),
		fPrice("L", func(t *target) *schema.Decimal { return &t.ev.Exec.LastFillPrice }),
		fPrice("z", func(t *target) *schema.Decimal { return &t.ev.Exec.CumFillQty }),
		fPrice("Z", func(t *target) *schema.Decimal { return &t.ev.Exec.CumQuoteQty }),
		fDecimal("n", func(t *target) *schema.Decimal { return &t.ev.Exec.Fee }), // a rebate can be negative
		field{key: "m", kind: kBool, flag: func(t *target) *bool { return &t.ev.Exec.IsMaker }},
		field{key: "r", kind: kText, words: binanceRejectReasons, str: func(t *target) *string { return &t.ev.Exec.RejectReason }},
		fMillis("T", func(t *target) *int64 { return &t.ev.Exec.TransactTime }),
		fMillis("O", func(t *target) *int64 { return &t.ev.Exec.OrderCreated }),
	)
)

func bids(t *target) *[]schema.Level { return &t.ev.Book.Bids }
func asks(t *target) *[]schema.Level { return &t.ev.Book.Asks }

// afterDepth checks a diff's ids.
func afterDepth(d *decoder, e *schema.CanonicalEvent) {
	if e.Type == schema.EventBookUpdate && e.Book.FirstSeq > e.Book.LastSeq {
		d.fail("U", errBadRange)
	}
	e.SeqProvider = e.Book.LastSeq
}

var errBadRange = wrapBad("first update id after last")

// afterKline marks a closed candle.
func afterKline(_ *decoder, e *schema.CanonicalEvent) {
	if e.Kline.Closed {
		e.Type = schema.EventKlineClosed
	}
}

// afterExec derives what Binance does not send.
func afterExec(_ *decoder, e *schema.CanonicalEvent) {
	x := &e.Exec
	if x.RejectReason == "NONE" {
		x.RejectReason = ""
	}
	if x.CumFillQty.Cmp(x.Qty) <= 0 {
		if rem, err := x.Qty.Sub(x.CumFillQty); err == nil {
			x.RemainingQty = rem
		}
	}
	if e.ExchangeTS == 0 {
		e.ExchangeTS = x.TransactTime
	}
}

// Control: a subscription ack ({"result":…,"id":…}, also WS-API responses
// other than orders) or a venue error ({"error":{"code","msg"},"id"}). The
// request id is Control.RequestID; WS-API ids that are not numbers are
// skipped.
var (
	binanceAck        = newTable("result", "", fReqID("id"))
	binanceVenueError = newTable("error", "",
		fReqID("id"),
		fObject("error", newTable("error", "",
			field{key: "code", kind: kInt, i64: code},
			fText("msg", reason),
		)),
	)
	// binanceOrderAck is a WS-API response to order.place or order.cancel:
	// {"id":N,"status":200,"result":{"symbol","orderId",…}}.
	binanceOrderAck = newTable("orderAck", "",
		fReqID("id"),
		fObject("result", newTable("orderAck", "",
			fSymbol("symbol"),
			fID("orderId", func(t *target) *schema.ID { return &t.ev.Exec.VenueOrderID }),
			fID("clientOrderId", func(t *target) *schema.ID { return &t.ev.Exec.ClientOrderID }),
			fID("origClientOrderId", func(t *target) *schema.ID { return &t.ev.Exec.OrigClientOrderID }),
			fEnum("status", binanceStatuses, func(t *target) *uint8 { return (*uint8)(&t.ev.Exec.Status) }),
			fSide("side", func(t *target) *schema.Side { return &t.ev.Exec.Side }),
			fEnum("type", binanceOrderTypes, func(t *target) *uint8 { return (*uint8)(&t.ev.Exec.Type) }),
			fEnum("timeInForce", binanceTIFs, func(t *target) *uint8 { return (*uint8)(&t.ev.Exec.TimeInForce) }),
			fPrice("price", func(t *target) *schema.Decimal { return &t.ev.Exec.Price }),
			fPrice("origQty", func(t *target) *schema.Decimal { return &t.ev.Exec.Qty }),
			fPrice("stopPrice", func(t *target) *schema.Decimal { return &t.ev.Exec.StopPrice }),
			fPrice("executedQty", func(t *target) *schema.Decimal { return &t.ev.Exec.CumFillQty }),
			fPrice("cummulativeQuoteQty", func(t *target) *schema.Decimal { return &t.ev.Exec.CumQuoteQty }),
			fMillis("transactTime", func(t *target) *int64 { return &t.ev.Exec.TransactTime }),
		)),
	)
)

// Binance's enum spellings, as data.
var (
	binanceExecTypes = enumTable(map[string]schema.ExecType{
		"NEW": schema.ExecNew, "TRADE": schema.ExecTrade, "CANCELED": schema.ExecCanceled,
		"REPLACED": schema.ExecReplaced, "REJECTED": schema.ExecRejected, "EXPIRED": schema.ExecExpired,
		"TRADE_PREVENTION": schema.ExecTradePrevention, "AMENDMENT": schema.ExecAmendment,
		"PENDING_NEW": schema.ExecPendingNew, "PENDING_CANCEL": schema.ExecPendingCancel,
	})
	binanceStatuses = enumTable(map[string]schema.OrderStatus{
		"PENDING_NEW": schema.StatusPendingNew, "NEW": schema.StatusNew,
		"PARTIALLY_FILLED": schema.StatusPartiallyFilled, "FILLED": schema.StatusFilled,
		"PENDING_CANCEL": schema.StatusPendingCancel, "CANCELED": schema.StatusCanceled,
		"REJECTED": schema.StatusRejected, "EXPIRED": schema.StatusExpired,
		"EXPIRED_IN_MATCH": schema.StatusExpiredInMatch,
	})
	binanceOrderTypes = enumTable(map[string]schema.OrderType{
		"MARKET": schema.OrderTypeMarket, "LIMIT": schema.OrderTypeLimit, "LIMIT_MAKER": schema.OrderTypeLimitMaker,
		"STOP_LOSS": schema.OrderTypeStopLoss, "STOP_LOSS_LIMIT": schema.OrderTypeStopLossLimit,
		"TAKE_PROFIT": schema.OrderTypeTakeProfit, "TAKE_PROFIT_LIMIT": schema.OrderTypeTakeProfitLimit,
	})
	binanceTIFs = enumTable(map[string]schema.TimeInForce{
		"GTC": schema.TIFGTC, "IOC": schema.TIFIOC, "FOK": schema.TIFFOK, "GTX": schema.TIFGTX,
	})
	// binanceRejectReasons interns the reasons Binance documents; others
	// are copied (rejects are rare).
	binanceRejectReasons = internTable("NONE",
		"INSUFFICIENT_BALANCES", "UNKNOWN_ORDER", "DUPLICATE_ORDER", "MARKET_CLOSED",
		"PRICE_QTY_EXCEED_HARD_LIMITS", "STOP_PRICE_WOULD_TRIGGER_IMMEDIATELY",
		"ORDER_WOULD_IMMEDIATELY_MATCH_AND_TAKE", "ORDER_WOULD_TRIGGER_IMMEDIATELY",
		"UNKNOWN_ACCOUNT", "UNKNOWN_INSTRUMENT", "ORDER_ARCHIVED",
	)
)

func internTable(words ...string) map[string]string {
	m := make(map[string]string, len(words))
	for _, w := range words {
		m[w] = w
	}
	return m
}
