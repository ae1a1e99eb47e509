package normalize

import (
	"cmp"
	"time"

	"github.com/meltica/meltica/schema"
)

// binanceFilter is one entry of a symbol's "filters" (Binance spot
// "Filters"): the fields of the filters that bound an order's price,
// quantity and notional. Others are skipped.
type binanceFilter struct {
	Type        string `json:"filterType"`
	MinPrice    string `json:"minPrice"`
	MaxPrice    string `json:"maxPrice"`
	TickSize    string `json:"tickSize"`
	MinQty      string `json:"minQty"`
	MaxQty      string `json:"maxQty"`
	StepSize    string `json:"stepSize"`
	MinNotional string `json:"minNotional"`
	MaxNotional string `json:"maxNotional"`
	Notional    string `json:"notional"` // USDⓈ-M MIN_NOTIONAL
	// Whether the notional bounds hold for MARKET orders too (spot
	// MIN_NOTIONAL applyToMarket, NOTIONAL applyMinToMarket and
	// applyMaxToMarket).
	ApplyToMarket    bool `json:"applyToMarket"`
	ApplyMinToMarket bool `json:"applyMinToMarket"`
	ApplyMaxToMarket bool `json:"applyMaxToMarket"`
	// PERCENT_PRICE_BY_SIDE and PERCENT_PRICE (multiplierUp, multiplierDown
	// for both sides on spot; on futures a buy's ceiling and a sell's
	// floor), their average's minutes; MAX_NUM_ORDERS and
	// MAX_NUM_ALGO_ORDERS (spot maxNumOrders, maxNumAlgoOrders; USDⓈ-M and
	// COIN-M "limit").
	BidMultiplierUp   string `json:"bidMultiplierUp"`
	BidMultiplierDown string `json:"bidMultiplierDown"`
	AskMultiplierUp   string `json:"askMultiplierUp"`
	AskMultiplierDown string `json:"askMultiplierDown"`
	MultiplierUp      string `json:"multiplierUp"`
	MultiplierDown    string `json:"multiplierDown"`
	AvgPriceMins      int    `json:"avgPriceMins"`
	MaxNumOrders      int    `json:"maxNumOrders"`
	MaxNumAlgoOrders  int    `json:"maxNumAlgoOrders"`
	Limit             int    `json:"limit"`
}

// ParseBinanceExchangeInfo reads the instruments of a Binance exchangeInfo
// response (its "symbols": symbol, baseAsset, quoteAsset and filters), to
// [Symbols.Load]. Each instrument's Rules come from its filters (Binance
// spot "Filters"): PRICE_FILTER gives MinPrice, MaxPrice and TickSize;
// LOT_SIZE MinQty, MaxQty and StepSize; MARKET_LOT_SIZE MarketMinQty,
// MarketMaxQty and MarketStepSize; NOTIONAL MinNotional and MaxNotional
// (and MarketMinNotional, MarketMaxNotional where applyMinToMarket,
// applyMaxToMarket say so), or the older MIN_NOTIONAL its MinNotional (and
// MarketMinNotional with applyToMarket). A value of 0 means the venue does
// not apply that bound, as Binance documents. The symbol's
// quoteAssetPrecision (decimals; else quotePrecision, its older name)
// gives QuoteStep; a spot symbol's orderTypes OrderTypes (a symbol without
// STOP_LOSS takes no stop-market order: -2010 "Stop loss orders are not
// supported for this symbol.", Binance "Error codes") and quoteOrderQtyMarketAllowed false
// NoQuoteQty; its status Trading (see binanceTrading). PERCENT_PRICE_BY_SIDE
// (and PERCENT_PRICE, its multipliers for both sides) gives the price
// band's multipliers and AvgPriceMins, which [InstrumentRules.CheckAt]
// applies around a reference price; MAX_NUM_ORDERS and
// MAX_NUM_ALGO_ORDERS MaxNumOrders and MaxNumAlgoOrders; the exchange
// filters EXCHANGE_MAX_NUM_ORDERS and EXCHANGE_MAX_NUM_ALGO_ORDERS, every
// instrument's ExchangeMaxNumOrders and ExchangeMaxNumAlgoOrders.
//
// The USDⓈ-M (/fapi/v1/exchangeInfo) and COIN-M (/dapi/v1/exchangeInfo)
// answers have the same shape plus "contractType" and "deliveryDate": a
// PERPETUAL contract gets Contract "PERP", a dated one (CURRENT_QUARTER,
// NEXT_QUARTER, …) its delivery date as YYMMDD in UTC, so that the
// canonical symbol names the contract (BTC-USDT-PERP, BTC-USD-250328). Their
// MIN_NOTIONAL filter carries "notional" (USDⓈ-M "Filters"); it fills
// MinNotional.
//
// A malformed number is a [*ParseError] naming the symbol's filter field;
// so is a decoder panic (ErrDecoderPanic), recovered.
func ParseBinanceExchangeInfo(data []byte) ([]Instrument, error) {
	var info struct {
		// EXCHANGE_MAX_NUM_ORDERS (maxNumOrders) and
		// EXCHANGE_MAX_NUM_ALGO_ORDERS (maxNumAlgoOrders): spot "Filters
		// → Exchange Filters".
		ExchangeFilters []binanceFilter `json:"exchangeFilters"`
		Symbols         []struct {      // names matched exactly (goccy v2)
			Symbol string `json:"symbol"`
			Status string `json:"status"`
			// COIN-M's name for it.
			ContractStatus string          `json:"contractStatus"`
			BaseAsset      string          `json:"baseAsset"`
			QuoteAsset     string          `json:"quoteAsset"`
			Filters        []binanceFilter `json:"filters"`
			// The quote asset's precision in decimals: a quoteOrderQty
			// with more is refused (-1111 "Precision is over the maximum
			// defined for this asset").
			QuoteAssetPrecision *int `json:"quoteAssetPrecision"`
			QuotePrecision      *int `json:"quotePrecision"` // its older name, the same value
			// Spot only: the order types the symbol takes, and whether a
			// MARKET order may give quoteOrderQty.
			OrderTypes                 []string `json:"orderTypes"`
			QuoteOrderQtyMarketAllowed *bool    `json:"quoteOrderQtyMarketAllowed"`
			// Derivatives only (USDⓈ-M and COIN-M exchangeInfo).
			ContractType string `json:"contractType"`
			DeliveryDate int64  `json:"deliveryDate"` // Unix ms
		} `json:"symbols"`
	}
	if err := decodeREST(data, &info, schema.VenueBinance, "exchangeInfo"); err != nil {
		return nil, err
	}
	ins := make([]Instrument, 0, len(info.Symbols))
	for _, s := range info.Symbols {
		in := Instrument{Symbol: s.Symbol, Base: s.BaseAsset, Quote: s.QuoteAsset, Contract: binanceContract(s.ContractType, s.DeliveryDate)}
		in.Rules.Trading = binanceTrading[cmp.Or(s.Status, s.ContractStatus)]
		for _, f := range info.ExchangeFilters {
			switch f.Type {
			case "EXCHANGE_MAX_NUM_ORDERS":
				in.Rules.ExchangeMaxNumOrders = max(f.MaxNumOrders, f.Limit, 0)
			case "EXCHANGE_MAX_NUM_ALGO_ORDERS":
				in.Rules.ExchangeMaxNumAlgoOrders = max(f.MaxNumAlgoOrders, f.Limit, 0)
			}
		}
		for i := range s.Filters {
			if err := in.Rules.applyBinance(&s.Filters[i], s.ContractType != ""); err != nil {
				return nil, err
			}
		}
		if p := cmp.Or(s.QuoteAssetPrecision, s.QuotePrecision); p != nil {
			step, ok := stepOfDecimals(*p)
			if !ok {
				return nil, &ParseError{Venue: schema.VenueBinance, Stream: "exchangeInfo " + s.Symbol, Field: "quoteAssetPrecision", Err: wrapBad("decimals out of range")}
			}
			in.Rules.QuoteStep = step
		}
		if s.ContractType == "" { // spot: derivatives spell their types otherwise
			for _, name := range s.OrderTypes {
				if t, ok := binanceOrderTypes[name]; ok {
					in.Rules.OrderTypes |= 1 << t
				}
			}
			in.Rules.NoQuoteQty = s.QuoteOrderQtyMarketAllowed != nil && !*s.QuoteOrderQtyMarketAllowed
		}
		ins = append(ins, in)
	}
	return ins, nil
}

// binanceTrading are the symbol statuses of exchangeInfo (Binance spot
// "Enums → Symbol status": PRE_TRADING, TRADING, POST_TRADING,
// END_OF_DAY, HALT, AUCTION_MATCH, BREAK; USDⓈ-M and COIN-M "Contract
// status": PENDING_TRADING, TRADING, PRE_DELIVERING, DELIVERING,
// DELIVERED, PRE_SETTLE, SETTLING, CLOSE): TRADING takes orders; the
// others named here take none (-1013 "Market is closed."). A word not
// named is TradingUnknown.
var binanceTrading = map[string]TradingStatus{
	"TRADING": TradingOpen, "PRE_TRADING": TradingHalted, "POST_TRADING": TradingHalted, "END_OF_DAY": TradingHalted,
	"HALT": TradingHalted, "AUCTION_MATCH": TradingHalted, "BREAK": TradingHalted,
	"PENDING_TRADING": TradingHalted, "DELIVERING": TradingHalted, "DELIVERED": TradingHalted, "SETTLING": TradingHalted,
	"CLOSE": TradingHalted,
}

// applyBinance reads one filter of a symbol; futures: a USDⓈ-M or COIN-M
// one, whose PERCENT_PRICE is one inequality per side (USDⓈ-M Futures
// "Common Definition → Filters": "BUY: price <= markPrice *
// multiplierUp; SELL: price >= markPrice * multiplierDown": a buy has no
// floor, a sell no ceiling) and whose MAX_NUM_ORDERS and
// MAX_NUM_ALGO_ORDERS say "limit".
func (r *InstrumentRules) applyBinance(f *binanceFilter, futures bool) error {
	var fields []ruleField
	switch f.Type {
	case "PRICE_FILTER":
		fields = []ruleField{{"minPrice", f.MinPrice, &r.MinPrice}, {"maxPrice", f.MaxPrice, &r.MaxPrice}, {"tickSize", f.TickSize, &r.TickSize}}
	case "LOT_SIZE":
		fields = []ruleField{{"minQty", f.MinQty, &r.MinQty}, {"maxQty", f.MaxQty, &r.MaxQty}, {"stepSize", f.StepSize, &r.StepSize}}
	case "MARKET_LOT_SIZE":
		fields = []ruleField{{"minQty", f.MinQty, &r.MarketMinQty}, {"maxQty", f.MaxQty, &r.MarketMaxQty}, {"stepSize", f.StepSize, &r.MarketStepSize}}
	case "NOTIONAL":
		fields = []ruleField{{"minNotional", f.MinNotional, &r.MinNotional}, {"maxNotional", f.MaxNotional, &r.MaxNotional}}
	case "MIN_NOTIONAL":
		fields = []ruleField{{"minNotional", f.MinNotional, &r.MinNotional}, {"notional", f.Notional, &r.MinNotional}}
	case "PERCENT_PRICE_BY_SIDE":
		fields = []ruleField{{"bidMultiplierUp", f.BidMultiplierUp, &r.BidMultiplierUp}, {"bidMultiplierDown", f.BidMultiplierDown, &r.BidMultiplierDown},
			{"askMultiplierUp", f.AskMultiplierUp, &r.AskMultiplierUp}, {"askMultiplierDown", f.AskMultiplierDown, &r.AskMultiplierDown}}
		r.AvgPriceMins = max(f.AvgPriceMins, 0)
	case "PERCENT_PRICE":
		if futures {
			fields = []ruleField{{"multiplierUp", f.MultiplierUp, &r.BidMultiplierUp}, {"multiplierDown", f.MultiplierDown, &r.AskMultiplierDown}}
			break
		}
		fields = []ruleField{{"multiplierUp", f.MultiplierUp, &r.BidMultiplierUp}, {"multiplierDown", f.MultiplierDown, &r.BidMultiplierDown},
			{"multiplierUp", f.MultiplierUp, &r.AskMultiplierUp}, {"multiplierDown", f.MultiplierDown, &r.AskMultiplierDown}}
		r.AvgPriceMins = max(f.AvgPriceMins, 0)
	case "MAX_NUM_ORDERS":
		r.MaxNumOrders = max(f.MaxNumOrders, 0)
		if futures {
			r.MaxNumOrders = max(f.Limit, 0)
		}
	case "MAX_NUM_ALGO_ORDERS":
		r.MaxNumAlgoOrders = max(f.MaxNumAlgoOrders, 0)
		if futures {
			r.MaxNumAlgoOrders = max(f.Limit, 0)
		}
	}
	if err := setRules(schema.VenueBinance, "exchangeInfo", f.Type, fields...); err != nil {
		return err
	}
	// A market order by quote amount (quoteOrderQty) is held to the
	// bounds the filter applies to MARKET orders.
	switch {
	case f.Type == "NOTIONAL":
		if f.ApplyMinToMarket {
			r.MarketMinNotional = r.MinNotional
		}
		if f.ApplyMaxToMarket {
			r.MarketMaxNotional = r.MaxNotional
		}
	case f.Type == "MIN_NOTIONAL" && futures:
		// USDⓈ-M: it holds for market orders too, at the mark price
		// ("Since MARKET orders have no price, the mark price is used":
		// CheckAt's ref), and not for reduce-only orders (-4164 "unless
		// you choose reduce only").
		r.MarketMinNotional, r.ReduceOnlyNotional = r.MinNotional, true
	case f.Type == "MIN_NOTIONAL" && f.ApplyToMarket:
		r.MarketMinNotional = r.MinNotional
	}
	return nil
}

// binanceContract is the canonical contract suffix of a derivatives
// exchangeInfo symbol: "PERP" for a perpetual, the delivery date (YYMMDD,
// UTC) for a dated future, "" for spot (no contractType) or an unknown type
// without a delivery date.
func binanceContract(contractType string, deliveryMillis int64) string {
	switch {
	case contractType == "":
		return ""
	case contractType == "PERPETUAL" || contractType == "PERPETUAL DELIVERING":
		return "PERP"
	case deliveryMillis > 0:
		return time.UnixMilli(deliveryMillis).UTC().Format("060102")
	}
	return ""
}
