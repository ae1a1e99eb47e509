package normalize

import "github.com/meltica/meltica/schema"

// Kraken's message types as tables. v2 keys are words; numbers are JSON
// numbers whose text is kept.

var krakenLevels = &levelShape{price: 0, qty: 1, side: -1, priceKey: "price", qtyKey: "qty"}

func klOpen(t *target) *schema.Decimal  { return &t.ev.Kline.Open }
func klHigh(t *target) *schema.Decimal  { return &t.ev.Kline.High }
func klLow(t *target) *schema.Decimal   { return &t.ev.Kline.Low }
func klClose(t *target) *schema.Decimal { return &t.ev.Kline.Close }
func klVol(t *target) *schema.Decimal   { return &t.ev.Kline.Volume }
func klOpenTime(t *target) *int64       { return &t.ev.Kline.OpenTime }
func klInterval(t *target) *string      { return &t.ev.Kline.Interval }
func klCount(t *target) *uint64         { return &t.ev.Kline.TradeCount }

// intervalNanos is the length of each canonical kline interval.
var intervalNanos = map[string]int64{
	"1m": 60e9, "3m": 180e9, "5m": 300e9, "15m": 900e9, "30m": 1800e9,
	"1h": 3600e9, "2h": 7200e9, "4h": 14400e9, "6h": 21600e9, "12h": 43200e9,
	"1d": 86400e9, "1w": 604800e9, "15d": 1296000e9,
}

var (
	krakenTrade = newTable("trade", "",
		fSymbol("symbol"),
		fSide("side", tradeSide),
		fPrice("price", tradePrice),
		fPrice("qty", tradeQty),
		field{key: "trade_id", kind: kSeqID, u64: seq, id: tradeID},
		fTime("timestamp", mainTime),
	)
	krakenTicker = newTable("ticker", "",
		fSymbol("symbol"),
		fPrice("bid", tkBid),
		fPrice("bid_qty", tkBidQty),
		fPrice("ask", tkAsk),
		fPrice("ask_qty", tkAskQty),
		fPrice("last", tkLast),
		fPrice("volume", tkVolume),
		fPrice("low", tkLow),
		fPrice("high", tkHigh),
		fDecimal("change", tkChange),
		fDecimal("change_pct", tkPct),
		fTime("timestamp", mainTime),
	)
	krakenBook = newTable("book", "",
		fSymbol("symbol"),
		fShaped("bids", krakenLevels, bids),
		fShaped("asks", krakenLevels, asks),
		fChecksum("checksum"),
		fTime("timestamp", mainTime),
	)
	// krakenV1Book: "as"/"bs" in a snapshot, "a"/"b" and the checksum "c"
	// in an update; levels are [price, volume, timestamp(, "r")].
	krakenV1Book = newTable("book", "",
		fLevels("as", asks),
		fLevels("bs", bids),
		fLevels("a", asks),
		fLevels("b", bids),
		fChecksum("c"),
	)
	krakenOHLC = newTable("ohlc", "",
		fSymbol("symbol"),
		fPrice("open", klOpen),
		fPrice("high", klHigh),
		fPrice("low", klLow),
		fPrice("close", klClose),
		fPrice("volume", klVol),
		fUint("trades", klCount),
		fTime("interval_begin", klOpenTime),
		fWord("interval", map[string]string{"1": "1m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "240": "4h", "1440": "1d", "10080": "1w", "21600": "15d"}, klInterval),
		fTime("timestamp", mainTime),
	)
	krakenExec = newTable("executions", "",
		fSymbol("symbol"),
		fID("order_id", func(t *target) *schema.ID { return &t.ev.Exec.VenueOrderID }),
		fID("cl_ord_id", func(t *target) *schema.ID { return &t.ev.Exec.ClientOrderID }),
		fID("trade_id", func(t *target) *schema.ID { return &t.ev.Exec.TradeID }),
		fSide("side", func(t *target) *schema.Side { return &t.ev.Exec.Side }),
		fEnum("order_type", krakenOrderTypes, func(t *target) *uint8 { return (*uint8)(&t.ev.Exec.Type) }),
		fEnum("time_in_force", krakenTIFs, func(t *target) *uint8 { return (*uint8)(&t.ev.Exec.TimeInForce) }),
		fEnum("exec_type", krakenExecTypes, func(t *target) *uint8 { return (*uint8)(&t.ev.Exec.ExecType) }),
		fEnum("order_status", krakenStatuses, func(t *target) *uint8 { return (*uint8)(&t.ev.Exec.Status) }),
		fPrice("order_qty", func(t *target) *schema.Decimal { return &t.ev.Exec.Qty }),
		fPrice("limit_price", func(t *target) *schema.Decimal { return &t.ev.Exec.Price }),
		fPrice("last_qty", func(t *target) *schema.Decimal { return &t.ev.Exec.LastFillQty }),
		fPrice("last_price", func(t *target) *schema.Decimal { return &t.ev.Exec.LastFillPrice }),
		fPrice("cum_qty", func(t *target) *schema.Decimal { return &t.ev.Exec.CumFillQty }),
		fPrice("cum_cost", func(t *target) *schema.Decimal { return &t.ev.Exec.CumQuoteQty }),
		fPrice("avg_price", func(t *target) *schema.Decimal { return &t.ev.Exec.AvgPrice }),
		fText("reason", func(t *target) *string { return &t.ev.Exec.RejectReason }),
		fTime("timestamp", mainTime),
		field{key: "liquidity_ind", kind: kBool, words: internTable("m"), flag: func(t *target) *bool { return &t.ev.Exec.IsMaker }},
		field{key: "fees", kind: kFirst, sub: newTable("fees", "",
			fID("asset", func(t *target) *schema.ID { return &t.ev.Exec.FeeAsset }),
			fDecimal("qty", func(t *target) *schema.Decimal { return &t.ev.Exec.Fee }),
		)},
	)
	// krakenV1Trade is one [price, volume, time, side, orderType, misc].
	krakenV1Trade = newTuple("trade",
		fPrice("0", tradePrice),
		fPrice("1", tradeQty),
		field{key: "2", kind: kSeconds, i64: mainTime},
		fSide("3", tradeSide),
	)
	// krakenV1Ticker: each field is an array, today's value then the last
	// 24 hours' (a and b: price, whole-lot volume, lot volume).
	krakenV1Ticker = newTable("ticker", "",
		fObject("a", newTuple("ticker", fPrice("0", tkAsk), fPrice("2", tkAskQty))),
		fObject("b", newTuple("ticker", fPrice("0", tkBid), fPrice("2", tkBidQty))),
		fObject("c", newTuple("ticker", fPrice("0", tkLast), fPrice("1", tkLastQty))),
		fObject("v", newTuple("ticker", fPrice("1", tkVolume))),
		fObject("t", newTuple("ticker", fUint("1", func(t *target) *uint64 { return &t.ev.Ticker.TradeCount }))),
		fObject("l", newTuple("ticker", fPrice("1", tkLow))),
		fObject("h", newTuple("ticker", fPrice("1", tkHigh))),
		fObject("o", newTuple("ticker", fPrice("1", tkOpen))),
	)
	// krakenMethod is a v2 method response or a v1 subscriptionStatus.
	krakenMethod = newTable("method", "",
		fReqID("req_id"),
		fReqID("reqid"),
		fText("error", reason),
		fText("errorMessage", reason),
	)
	krakenStatusTable = newTable("status", "",
		fText("system", reason), // v2: "online", "maintenance", …
		fText("status", reason), // v1 systemStatus
	)
)

// Kraken's enum spellings.
var (
	krakenExecTypes = enumTable(map[string]schema.ExecType{
		"pending_new": schema.ExecPendingNew, "new": schema.ExecNew, "trade": schema.ExecTrade, "filled": schema.ExecTrade,
		"canceled": schema.ExecCanceled, "expired": schema.ExecExpired, "amended": schema.ExecAmendment,
		"restated": schema.ExecReplaced, "iceberg_refill": schema.ExecReplaced,
	})
	krakenStatuses = enumTable(map[string]schema.OrderStatus{
		"pending_new": schema.StatusPendingNew, "new": schema.StatusNew, "partially_filled": schema.StatusPartiallyFilled,
		"filled": schema.StatusFilled, "canceled": schema.StatusCanceled, "expired": schema.StatusExpired,
	})
	krakenOrderTypes = enumTable(map[string]schema.OrderType{
		"market": schema.OrderTypeMarket, "limit": schema.OrderTypeLimit,
		"stop-loss": schema.OrderTypeStopLoss, "stop-loss-limit": schema.OrderTypeStopLossLimit,
		"take-profit": schema.OrderTypeTakeProfit, "take-profit-limit": schema.OrderTypeTakeProfitLimit,
	})
	krakenTIFs = enumTable(map[string]schema.TimeInForce{"gtc": schema.TIFGTC, "ioc": schema.TIFIOC, "fok": schema.TIFFOK})
)
