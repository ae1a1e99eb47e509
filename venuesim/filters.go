package venuesim

import "github.com/goccy/go-json/jsontext"

// The simulated symbols' order rules, in 1e-8 units (Binance spot
// "Filters"): the price on the symbol's tick from one tick up, the
// quantity on steps of 0.00001 up to 9000, the notional between 5 and
// 100,000,000 of the quote asset.
const (
	lotStep     = one / 100_000
	maxLotQty   = 9000 * one
	minNotional = 5 * one
	maxNotional = 100_000_000 * one
	maxPrice    = 10_000_000 * one
)

// avgPriceMins is the NOTIONAL filter's averaging window, in minutes
// (the simulator holds market orders to no notional, so it is unused).
var avgPriceMins = 5

// filter is one exchangeInfo filter.
type filter struct {
	Type        string         `json:"filterType"`
	MinPrice    jsontext.Value `json:"minPrice,omitempty"`
	MaxPrice    jsontext.Value `json:"maxPrice,omitempty"`
	TickSize    jsontext.Value `json:"tickSize,omitempty"`
	MinQty      jsontext.Value `json:"minQty,omitempty"`
	MaxQty      jsontext.Value `json:"maxQty,omitempty"`
	StepSize    jsontext.Value `json:"stepSize,omitempty"`
	MinNotional jsontext.Value `json:"minNotional,omitempty"`
	// ApplyMinToMarket, ApplyMaxToMarket and AvgPriceMins: NOTIONAL only.
	ApplyMinToMarket *bool          `json:"applyMinToMarket,omitempty"`
	MaxNotional      jsontext.Value `json:"maxNotional,omitempty"`
	ApplyMaxToMarket *bool          `json:"applyMaxToMarket,omitempty"`
	AvgPriceMins     *int           `json:"avgPriceMins,omitempty"`
}

// filters are a symbol's PRICE_FILTER, LOT_SIZE and NOTIONAL.
func filters(s *symbolState) []filter {
	return []filter{
		{Type: "PRICE_FILTER", MinPrice: decValue(s.tick), MaxPrice: decValue(maxPrice), TickSize: decValue(s.tick)},
		{Type: "LOT_SIZE", MinQty: decValue(lotStep), MaxQty: decValue(maxLotQty), StepSize: decValue(lotStep)},
		// Market orders are not held to it: applyMinToMarket and
		// applyMaxToMarket false; avgPriceMins as Binance's default.
		{Type: "NOTIONAL", MinNotional: decValue(minNotional), ApplyMinToMarket: new(bool),
			MaxNotional: decValue(maxNotional), ApplyMaxToMarket: new(bool), AvgPriceMins: &avgPriceMins},
	}
}

// checkFilters refuses an order that breaks the symbol's filters, as
// Binance does (-1013 "Filter failure: …"). Market orders are checked
// for their quantity only.
func checkFilters(s *symbolState, o *order) (code int, msg string) {
	if o.typ != "MARKET" && (o.price < s.tick || o.price > maxPrice || (o.price-s.tick)%s.tick != 0) {
		return -1013, "Filter failure: PRICE_FILTER"
	}
	if o.qty < lotStep || o.qty > maxLotQty || (o.qty-lotStep)%lotStep != 0 {
		return -1013, "Filter failure: LOT_SIZE"
	}
	if o.typ != "MARKET" {
		if n := mulDec(o.price, o.qty); n < minNotional || n > maxNotional {
			return -1013, "Filter failure: NOTIONAL"
		}
	}
	return 0, ""
}
