package normalize

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/meltica/meltica/schema"
)

// InstrumentRules are the bounds a venue sets on an instrument's orders,
// from its instrument endpoint (Binance: exchangeInfo's filters, see
// [ParseBinanceExchangeInfo]). A zero field is a bound the venue does not
// apply. The zero value applies none.
type InstrumentRules struct {
	TickSize           schema.Decimal // prices are multiples of it
	MinPrice, MaxPrice schema.Decimal
	StepSize           schema.Decimal // quantities are multiples of it
	MinQty, MaxQty     schema.Decimal
	// MinNotional and MaxNotional bound price × quantity (in the quote
	// asset) of an order with a price. Market orders, whose price the venue
	// takes from its recent average, are not checked against them.
	MinNotional, MaxNotional schema.Decimal
	// ReduceOnlyNotional: MinNotional (and MarketMinNotional) do not hold
	// for a reduce-only order (Binance USDⓈ-M futures, "Error Codes →
	// -4164 MIN_NOTIONAL": "Order's notional must be no smaller than %s
	// (unless you choose reduce only)"), so that the rest of a position
	// smaller than the minimum can be closed.
	ReduceOnlyNotional bool
	// MarketMinQty, MarketMaxQty and MarketStepSize bound the quantity of
	// a market order, beside MinQty, MaxQty and StepSize, which hold for
	// every order (Binance MARKET_LOT_SIZE; Bybit derivatives'
	// maxMktOrderQty and spot's maxMarketOrderQty; OKX derivatives'
	// maxMktSz). Zero: not applied.
	MarketMinQty, MarketMaxQty, MarketStepSize schema.Decimal
	// MarketMinNotional and MarketMaxNotional bound the quote amount of a
	// market order by quote quantity (QuoteQty), the one market order whose
	// notional is known before it reaches the venue (Binance NOTIONAL with
	// applyMinToMarket or applyMaxToMarket, MIN_NOTIONAL with
	// applyToMarket; Bybit spot minOrderAmt and maxOrderAmt; Kraken
	// costmin). Zero: not applied.
	MarketMinNotional, MarketMaxNotional schema.Decimal
	// QuoteStep is the step of a quote quantity (QuoteQty): its precision
	// in the quote asset (Binance quoteAssetPrecision, as 10^-n; Bybit
	// spot quotePrecision). Zero: not applied.
	QuoteStep schema.Decimal
	// OrderTypes are the order types the venue takes for the instrument:
	// bit 1<<t for each schema.OrderType t (Binance exchangeInfo's
	// orderTypes; a post-only limit order is OrderTypeLimitMaker). Zero:
	// not known, every type passes.
	OrderTypes uint16
	// NoQuoteQty: the venue takes no market order by quote amount for the
	// instrument (Binance quoteOrderQtyMarketAllowed false).
	NoQuoteQty bool
	// The price band around the market's reference price (Binance
	// PERCENT_PRICE_BY_SIDE; PERCENT_PRICE gives both sides the same
	// multipliers): a buy's price within [ref × BidMultiplierDown, ref ×
	// BidMultiplierUp], a sell's within the ask's, ref the weighted
	// average price over AvgPriceMins minutes (0: the last price). Binance
	// futures' PERCENT_PRICE bounds a buy from above and a sell from below
	// only, around the mark price: BidMultiplierDown and AskMultiplierUp
	// stay zero. Zero: not applied. Only [InstrumentRules.CheckAt], which
	// is given ref, applies them.
	BidMultiplierUp, BidMultiplierDown, AskMultiplierUp, AskMultiplierDown schema.Decimal
	AvgPriceMins                                                           int
	// MaxNumOrders and MaxNumAlgoOrders are the most orders (of them, stop
	// and take-profit orders) an account may have open on the instrument
	// (Binance MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS). Zero: not said. Not
	// checked here: the count is the account's (session.Session.Place
	// applies them to the orders it follows).
	MaxNumOrders, MaxNumAlgoOrders int
	// ExchangeMaxNumOrders and ExchangeMaxNumAlgoOrders are the same
	// bounds over every instrument of the exchange (Binance exchange
	// filters EXCHANGE_MAX_NUM_ORDERS, EXCHANGE_MAX_NUM_ALGO_ORDERS),
	// repeated in each instrument of the list. Zero: not said. Not checked
	// here either.
	ExchangeMaxNumOrders, ExchangeMaxNumAlgoOrders int
	// Trading is what the venue said of the instrument's trading when its
	// list was read: halted (no new order), or open to some orders only.
	// TradingUnknown (the zero value): not said, every order passes. It is
	// a snapshot: a venue lifts a halt without a word to a list read
	// before.
	Trading TradingStatus
	// ContractSize is the base quantity one contract stands for, on venues
	// whose derivative orders count contracts (OKX ctVal, Coinbase futures'
	// contract_size); quantities and the bounds above are then in
	// contracts, and Check's notional (price × quantity) is per contract
	// size, not in the quote asset. Zero: quantities are in the base asset.
	ContractSize schema.Decimal
	// ContractInQuote: ContractSize is an amount of the quote asset, not
	// of the base — an inverse contract (OKX BTC-USD-SWAP: ctVal 100,
	// ctValCcy USD), whose base quantity is ContractSize / price.
	ContractInQuote bool
}

// TradingStatus is which new orders an instrument takes, from the venue's
// instrument list (see each venue's Parse… function for its words).
type TradingStatus uint8

const (
	// TradingUnknown: the venue did not say (or said a word not known
	// here): every order passes.
	TradingUnknown TradingStatus = iota
	// TradingOpen: every order (Binance TRADING, OKX live, Bybit Trading,
	// Kraken online, Coinbase online).
	TradingOpen
	// TradingHalted: no new order, cancels only (Binance BREAK, HALT, …,
	// OKX suspend, Kraken cancel_only, Coinbase trading_disabled,
	// cancel_only).
	TradingHalted
	// TradingPostOnly: post-only limit orders only (Kraken post_only,
	// Coinbase post_only).
	TradingPostOnly
	// TradingLimitOnly: orders with a limit price only (Kraken
	// limit_only, Coinbase limit_only).
	TradingLimitOnly
	// TradingReduceOnly: reduce-only orders only (Kraken reduce_only).
	TradingReduceOnly
)

var tradingNames = [...]string{"unknown", "open", "halted", "post only", "limit only", "reduce only"}

func (t TradingStatus) String() string {
	if int(t) < len(tradingNames) {
		return tradingNames[t]
	}
	return "TradingStatus(" + fmt.Sprint(uint8(t)) + ")"
}

// takes reports whether an instrument in status t takes o (a place).
func (t TradingStatus) takes(o *schema.OrderRequest) bool {
	switch t {
	case TradingHalted:
		return false
	case TradingPostOnly:
		return o.PostOnly || o.Type == schema.OrderTypeLimitMaker
	case TradingLimitOnly:
		return o.Type.NeedsPrice()
	case TradingReduceOnly:
		return o.ReduceOnly
	}
	return true
}

// RuleError is an order that breaks one of its instrument's rules.
type RuleError struct {
	Symbol string
	Field  string         // "Status", "Type", "Price", "StopPrice", "Qty", "Notional" or "QuoteQty"; the session's "OpenOrders", "OpenAlgoOrders" (MaxNumOrders, MaxNumAlgoOrders)
	Rule   string         // the TradingStatus (Field "Status"), "not offered", "tick size", "min", "max", "step size", "market min", "market max", "market step size"; the session's "exchange max"
	Value  schema.Decimal // the order's value
	Limit  schema.Decimal // the rule's
}

func (e *RuleError) Error() string {
	if e.Field == fieldStatus {
		return fmt.Sprintf("normalize: %s: the instrument takes no such order now (trading: %s)", e.Symbol, e.Rule)
	}
	if e.Rule == ruleNotOffered {
		return fmt.Sprintf("normalize: %s: the venue takes no order of this %s", e.Symbol, e.Field)
	}
	if strings.HasSuffix(e.Rule, " size") {
		return fmt.Sprintf("normalize: %s %s %s is not on the %s %s", e.Symbol, e.Field, e.Value, e.Rule, e.Limit)
	}
	return fmt.Sprintf("normalize: %s %s %s breaks the %s of %s", e.Symbol, e.Field, e.Value, e.Rule, e.Limit)
}

// ruleNotOffered is the Rule of an order of a type (or by a quote amount)
// the venue does not take for the instrument.
const ruleNotOffered = "not offered"

// fieldStatus is the Field of an order the instrument's trading status
// refuses.
const fieldStatus = "Status"

// Check reports the first rule o breaks, as a [*RuleError]: the
// instrument's Trading status (Field "Status", Rule the status's name:
// halted takes no order, post only none but post-only limit orders,
// limit only none without a limit price, reduce only none but
// reduce-only ones); its type
// against OrderTypes and a quote quantity against NoQuoteQty (Rule "not
// offered", Field "Type" or "QuoteQty"); the price and stop price against
// MinPrice, MaxPrice and the tick size, the quantity against MinQty,
// MaxQty and the step size — a price is a multiple of the tick size and a
// quantity of the step size, whatever the minimum (Binance "Filters":
// "price % tickSize == 0", "quantity % stepSize == 0", since the
// 2022-02-24 change from (price-minPrice) % tickSize; OKX: multiples of
// tickSz and lotSz; Bybit of tickSize and qtyStep; Kraken of tick_size
// and 10^-lot_decimals); a market order's quantity against MarketMinQty,
// MarketMaxQty and MarketStepSize too (Field "Qty", Rule "market min",
// "market max" or "market step size"); for an order with a price, price ×
// quantity against MinNotional (not a reduce-only one's, with
// ReduceOnlyNotional) and MaxNotional; for a market order by
// quote quantity, the quote quantity against MarketMinNotional,
// MarketMaxNotional and QuoteStep (Field "QuoteQty", Rule "min", "max" or
// "step size"). A cancel is not checked. o is only read.
func (r *InstrumentRules) Check(o *schema.OrderRequest) error {
	if o.Action == schema.ActionCancel {
		return nil
	}
	if !r.Trading.takes(o) {
		return &RuleError{Symbol: o.Symbol, Field: fieldStatus, Rule: r.Trading.String()}
	}
	typ := o.Type
	if o.PostOnly && typ == schema.OrderTypeLimit {
		typ = schema.OrderTypeLimitMaker
	}
	if r.OrderTypes != 0 && (typ >= 16 || r.OrderTypes&(1<<typ) == 0) {
		return &RuleError{Symbol: o.Symbol, Field: "Type", Rule: ruleNotOffered}
	}
	if r.NoQuoteQty && o.QuoteQty.Sign() > 0 {
		return &RuleError{Symbol: o.Symbol, Field: "QuoteQty", Rule: ruleNotOffered}
	}
	if o.Type.NeedsPrice() {
		if err := r.checkPrice(o.Symbol, "Price", o.Price); err != nil {
			return err
		}
	}
	if o.StopPrice.Sign() > 0 {
		if err := r.checkPrice(o.Symbol, "StopPrice", o.StopPrice); err != nil {
			return err
		}
	}
	if o.Qty.Sign() > 0 {
		if err := checkStepped(o.Symbol, "Qty", o.Qty, r.MinQty, r.MaxQty, r.StepSize, "step size"); err != nil {
			return err
		}
	}
	if o.Type == schema.OrderTypeMarket && o.Qty.Sign() > 0 {
		if err := checkStepped(o.Symbol, "Qty", o.Qty, r.MarketMinQty, r.MarketMaxQty, r.MarketStepSize, "market step size"); err != nil {
			if re, ok := err.(*RuleError); ok && (re.Rule == "min" || re.Rule == "max") {
				re.Rule = "market " + re.Rule
			}
			return err
		}
	}
	if o.Type.NeedsPrice() && o.Qty.Sign() > 0 {
		if err := checkNotional(o.Symbol, o.Price, o.Qty, r.minNotional(o, r.MinNotional), r.MaxNotional); err != nil {
			return err
		}
	}
	if o.Type == schema.OrderTypeMarket && o.QuoteQty.Sign() > 0 {
		if err := checkBounds(o.Symbol, "QuoteQty", o.QuoteQty, r.MarketMinNotional, r.MarketMaxNotional); err != nil {
			return err
		}
		if err := checkStepped(o.Symbol, "QuoteQty", o.QuoteQty, schema.Decimal{}, schema.Decimal{}, r.QuoteStep, "step size"); err != nil {
			return err
		}
	}
	return nil
}

// CheckAt is [InstrumentRules.Check], then the rules that need the
// market's reference price ref (Binance: the symbol's average price,
// "Current average price", over AvgPriceMins minutes; the caller's to
// give, as the session does not follow it): an order with a price within
// its side's band (Field "Price", Rule "percent price min" or "percent
// price max", Limit the bound: PERCENT_PRICE_BY_SIDE, PERCENT_PRICE), and
// a market order by quantity's notional ref × Qty against
// MarketMinNotional and MarketMaxNotional (Field "Notional", Rule "market
// min" or "market max": NOTIONAL applyMinToMarket, applyMaxToMarket). A ref
// that is not positive applies neither. o is only read.
func (r *InstrumentRules) CheckAt(o *schema.OrderRequest, ref schema.Decimal) error {
	if err := r.Check(o); err != nil || o.Action == schema.ActionCancel || ref.Sign() <= 0 {
		return err
	}
	if o.Type.NeedsPrice() {
		up, down := r.BidMultiplierUp, r.BidMultiplierDown
		if o.Side == schema.SideSell {
			up, down = r.AskMultiplierUp, r.AskMultiplierDown
		}
		price := ratOf(o.Price)
		for _, b := range [...]struct {
			mult schema.Decimal
			rule string
			sign int
		}{{down, "percent price min", -1}, {up, "percent price max", 1}} {
			if b.mult.Sign() <= 0 {
				continue
			}
			bound := new(big.Rat).Mul(ratOf(ref), ratOf(b.mult))
			if price.Cmp(bound) == b.sign {
				return &RuleError{Symbol: o.Symbol, Field: "Price", Rule: b.rule, Value: o.Price, Limit: nearest(bound)}
			}
		}
	}
	if o.Type == schema.OrderTypeMarket && o.Qty.Sign() > 0 {
		err := checkNotional(o.Symbol, ref, o.Qty, r.minNotional(o, r.MarketMinNotional), r.MarketMaxNotional)
		if re, ok := err.(*RuleError); ok {
			re.Rule = "market " + re.Rule
		}
		return err
	}
	return nil
}

// minNotional is min, the minimum notional of o, or zero when o is
// reduce-only and the venue exempts it (ReduceOnlyNotional).
func (r *InstrumentRules) minNotional(o *schema.OrderRequest, min schema.Decimal) schema.Decimal {
	if o.ReduceOnly && r.ReduceOnlyNotional {
		return schema.Decimal{}
	}
	return min
}

// checkNotional checks price × qty against lo and hi (zero: no bound).
// The product is exact: when it has more digits than a Decimal holds (a
// price and a quantity with many decimals each: 1234.56789012 ×
// 12345.6789 has 21 significant digits), it is compared in math/big, and
// the RuleError's Value is the product rounded (halves away from zero) to the decimals
// that fit.
func checkNotional(sym string, price, qty, lo, hi schema.Decimal) error {
	n, err := price.Mul(qty)
	if err == nil {
		return checkBounds(sym, "Notional", n, lo, hi)
	}
	exact := new(big.Rat).Mul(ratOf(price), ratOf(qty))
	for _, b := range [...]struct {
		limit schema.Decimal
		rule  string
		sign  int
	}{{lo, "min", -1}, {hi, "max", 1}} {
		if b.limit.Sign() > 0 && exact.Cmp(ratOf(b.limit)) == b.sign {
			return &RuleError{Symbol: sym, Field: "Notional", Rule: b.rule, Value: nearest(exact), Limit: b.limit}
		}
	}
	return nil
}

// ratOf is d as an exact fraction.
func ratOf(d schema.Decimal) *big.Rat {
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale())), nil)
	return new(big.Rat).SetFrac(big.NewInt(d.Mantissa()), den)
}

// nearest is r at the most decimals a Decimal holds for it (r rounded;
// the zero Decimal when even its integer part does not fit).
func nearest(r *big.Rat) schema.Decimal {
	for scale := schema.MaxScale; scale >= 0; scale-- {
		if d, err := schema.ParseDecimal(r.FloatString(scale)); err == nil {
			return d
		}
	}
	return schema.Decimal{}
}

func (r *InstrumentRules) checkPrice(sym, field string, p schema.Decimal) error {
	return checkStepped(sym, field, p, r.MinPrice, r.MaxPrice, r.TickSize, "tick size")
}

func checkBounds(sym, field string, v, lo, hi schema.Decimal) error {
	if lo.Sign() > 0 && v.Cmp(lo) < 0 {
		return &RuleError{Symbol: sym, Field: field, Rule: "min", Value: v, Limit: lo}
	}
	if hi.Sign() > 0 && v.Cmp(hi) > 0 {
		return &RuleError{Symbol: sym, Field: field, Rule: "max", Value: v, Limit: hi}
	}
	return nil
}

func checkStepped(sym, field string, v, lo, hi, step schema.Decimal, rule string) error {
	if err := checkBounds(sym, field, v, lo, hi); err != nil {
		return err
	}
	if step.Sign() <= 0 {
		return nil
	}
	on, err := v.RoundToStep(step, schema.RoundDown)
	if err != nil {
		return err
	}
	if !on.Equal(v) {
		return &RuleError{Symbol: sym, Field: field, Rule: rule, Value: v, Limit: step}
	}
	return nil
}

// Round puts o's price and stop price on the tick size — a buy's down
// (floor), a sell's up (ceiling), so that rounding never makes an order
// more aggressive — and its quantity on the step size (a market order's
// on MarketStepSize too) and its quote quantity on QuoteStep, down, so
// that neither grows (a quantity under MinQty goes further down, never up
// to it; Check then refuses it). It changes o; bounds are left to
// [InstrumentRules.Check].
func (r *InstrumentRules) Round(o *schema.OrderRequest) error {
	mode := schema.RoundFloor
	if o.Side == schema.SideSell {
		mode = schema.RoundCeiling
	}
	for _, f := range []struct {
		v         *schema.Decimal
		sz        schema.Decimal
		roundMode schema.RoundingMode
	}{{&o.Price, r.TickSize, mode}, {&o.StopPrice, r.TickSize, mode}, {&o.Qty, r.StepSize, schema.RoundFloor},
		{&o.Qty, r.marketStep(o), schema.RoundFloor}, {&o.QuoteQty, r.QuoteStep, schema.RoundFloor}} {
		if f.v.Sign() <= 0 || f.sz.Sign() <= 0 {
			continue
		}
		v, err := f.v.RoundToStep(f.sz, f.roundMode)
		if err != nil {
			return err
		}
		*f.v = v
	}
	return nil
}

// marketStep is MarketStepSize for a market order, else zero.
func (r *InstrumentRules) marketStep(o *schema.OrderRequest) schema.Decimal {
	if o.Type != schema.OrderTypeMarket {
		return schema.Decimal{}
	}
	return r.MarketStepSize
}

// MinQtyAt is the least quantity an order at price may have: MinQty, or
// more when MinNotional needs it (MinNotional / price), rounded up to the
// step size (a MinQty off the step is not itself a valid quantity). It
// fails for a price that is not positive when MinNotional is set.
func (r *InstrumentRules) MinQtyAt(price schema.Decimal) (schema.Decimal, error) {
	q := r.MinQty
	if r.MinNotional.Sign() > 0 {
		if price.Sign() <= 0 {
			return q, fmt.Errorf("%w: price %s", ErrBadValue, price)
		}
		scale := max(r.StepSize.Scale(), r.MinQty.Scale(), 8)
		n, err := r.MinNotional.Div(price, scale, schema.RoundUp)
		if err != nil {
			return q, err
		}
		if n.Cmp(q) > 0 {
			q = n
		}
	}
	if r.StepSize.Sign() > 0 {
		up, err := q.RoundToStep(r.StepSize, schema.RoundCeiling)
		if err != nil {
			return r.MinQty, err
		}
		if !up.Equal(q) {
			q = up
		}
	}
	return q, nil
}
