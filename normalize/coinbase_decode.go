package normalize

import "github.com/meltica/meltica/schema"

// Coinbase's message types as tables (see binance_decode.go for the
// engine's conventions).

// emptyTable decodes control messages that carry nothing we keep.
var emptyTable = newTable("control", "")

func tradePrice(t *target) *schema.Decimal { return &t.ev.Trade.Price }
func tradeQty(t *target) *schema.Decimal   { return &t.ev.Trade.Qty }
func tradeID(t *target) *schema.ID         { return &t.ev.Trade.ID }
func tradeSide(t *target) *schema.Side     { return &t.ev.Trade.Side }

func tkLast(t *target) *schema.Decimal     { return &t.ev.Ticker.Last }
func tkLastQty(t *target) *schema.Decimal  { return &t.ev.Ticker.LastQty }
func tkBid(t *target) *schema.Decimal      { return &t.ev.Ticker.BidPrice }
func tkBidQty(t *target) *schema.Decimal   { return &t.ev.Ticker.BidQty }
func tkAsk(t *target) *schema.Decimal      { return &t.ev.Ticker.AskPrice }
func tkAskQty(t *target) *schema.Decimal   { return &t.ev.Ticker.AskQty }
func tkOpen(t *target) *schema.Decimal     { return &t.ev.Ticker.Open }
func tkHigh(t *target) *schema.Decimal     { return &t.ev.Ticker.High }
func tkLow(t *target) *schema.Decimal      { return &t.ev.Ticker.Low }
func tkVolume(t *target) *schema.Decimal   { return &t.ev.Ticker.Volume }
func tkQuoteVol(t *target) *schema.Decimal { return &t.ev.Ticker.QuoteVolume }
func tkChange(t *target) *schema.Decimal   { return &t.ev.Ticker.PriceChange }
func tkPct(t *target) *schema.Decimal      { return &t.ev.Ticker.ChangePct }

var (
	// coinbaseTrade is one trade of an Advanced Trade market_trades event;
	// its side is the aggressor's.
	coinbaseTrade = newTable("market_trades", "",
		field{key: "trade_id", kind: kSeqID, u64: seq, id: tradeID},
		fSymbol("product_id"),
		fPrice("price", tradePrice),
		fPrice("size", tradeQty),
		fSide("side", tradeSide),
		fTime("time", mainTime),
	)
	coinbaseTicker = newTable("ticker", "",
		fSymbol("product_id"),
		fPrice("price", tkLast),
		fPrice("volume_24_h", tkVolume),
		fPrice("low_24_h", tkLow),
		fPrice("high_24_h", tkHigh),
		fDecimal("price_percent_chg_24_h", tkPct),
		fPrice("best_bid", tkBid),
		fPrice("best_bid_quantity", tkBidQty),
		fPrice("best_ask", tkAsk),
		fPrice("best_ask_quantity", tkAskQty),
	)
	// coinbaseL2 is one l2_data event: a product and its changed levels,
	// each naming its side ("bid" or "offer").
	coinbaseL2 = newTable("l2_data", "",
		fSymbol("product_id"),
		fShaped("updates", &levelShape{price: 0, qty: 1, side: 2, priceKey: "price_level", qtyKey: "new_quantity", sideKey: "side"}, bids),
	)
	// coinbaseCandle: "start" is Unix seconds, as text.
	coinbaseCandle = newTable("candles", "",
		fSymbol("product_id"),
		field{key: "start", kind: kSeconds, i64: klOpenTime},
		fPrice("open", klOpen),
		fPrice("high", klHigh),
		fPrice("low", klLow),
		fPrice("close", klClose),
		fPrice("volume", klVol),
	)
	// coinbaseMatch is an Exchange match: its side is the maker's.
	coinbaseMatch = newTable("match", "",
		fUint("sequence", seq),
		fID("trade_id", tradeID),
		fSymbol("product_id"),
		fPrice("price", tradePrice),
		fPrice("size", tradeQty),
		field{key: "side", kind: kSide, side: tradeSide, invert: true},
		fTime("time", mainTime),
	)
	coinbaseExchangeTicker = newTable("ticker", "",
		fUint("sequence", seq),
		fSymbol("product_id"),
		fPrice("price", tkLast),
		fPrice("last_size", tkLastQty),
		fPrice("open_24h", tkOpen),
		fPrice("high_24h", tkHigh),
		fPrice("low_24h", tkLow),
		fPrice("volume_24h", tkVolume),
		fPrice("best_bid", tkBid),
		fPrice("best_bid_size", tkBidQty),
		fPrice("best_ask", tkAsk),
		fPrice("best_ask_size", tkAskQty),
		fTime("time", mainTime),
	)
	coinbaseSnapshot = newTable("snapshot", "",
		fSymbol("product_id"),
		fLevels("bids", bids),
		fLevels("asks", asks),
		fTime("time", mainTime),
	)
	// coinbaseL2Update changes are [side, price, size], side "buy" or "sell".
	coinbaseL2Update = newTable("l2update", "",
		fSymbol("product_id"),
		fShaped("changes", &levelShape{price: 1, qty: 2, side: 0}, bids),
		fTime("time", mainTime),
	)
)
