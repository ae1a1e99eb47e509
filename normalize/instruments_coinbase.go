package normalize

import (
	"bytes"
	"context"
	"net/http"
	"strings"

	"github.com/meltica/meltica/schema"
)

// The product lists of Coinbase's two APIs, for [FetchCoinbaseInstruments].
const (
	// CoinbaseAdvancedProducts: Advanced Trade "Public → List Public
	// Products", on https://api.coinbase.com (no authentication).
	CoinbaseAdvancedProducts = "/api/v3/brokerage/market/products"
	// CoinbaseExchangeProducts: Exchange "Products → Get all known trading
	// pairs", on https://api.exchange.coinbase.com.
	CoinbaseExchangeProducts = "/products"
)

// FetchCoinbaseInstruments gets GET {baseURL}{path} — path
// [CoinbaseAdvancedProducts] or [CoinbaseExchangeProducts] on that API's
// host — with client (http.DefaultClient when nil) and parses it with
// [ParseCoinbaseProducts].
func FetchCoinbaseInstruments(ctx context.Context, client *http.Client, baseURL, path string) ([]Instrument, error) {
	data, err := getREST(ctx, client, baseURL+path, schema.VenueCoinbase, "products")
	if err != nil {
		return nil, err
	}
	return ParseCoinbaseProducts(data)
}

// ParseCoinbaseProducts reads either product list, ready for
// [Symbols.Load]:
//
//   - Advanced Trade {"products":[{product_id, base_currency_id,
//     quote_currency_id, price_increment, base_increment, base_min_size,
//     base_max_size, quote_min_size, quote_max_size, product_type,
//     future_product_details}],"num_products"}: price_increment is
//     TickSize, base_increment StepSize, base_min_size and base_max_size
//     MinQty and MaxQty, quote_min_size and quote_max_size MinNotional and
//     MaxNotional (and MarketMinNotional, MarketMaxNotional: a market
//     order's quote_size), quote_increment QuoteStep. A FUTURE product gets Contract PERP (perpetual) or the
//     middle of its product id ("BIP-20DEC30-CDE": 20DEC30) and its
//     contract_size as ContractSize; base and quote come from
//     future_product_details' contract_root_unit and the quote currency.
//   - Exchange [{id, base_currency, quote_currency, quote_increment,
//     base_increment, min_market_funds}]: quote_increment is TickSize
//     (Exchange: "the min order price as well as the price increment"),
//     base_increment StepSize, min_market_funds MinNotional and
//     MarketMinNotional, and quote_increment QuoteStep too (a market
//     order's funds).
//
// Products that name no base or quote are skipped. A malformed answer or
// value is a [*ParseError]; Coinbase refuses with an HTTP status (a
// [*RESTError] from [FetchCoinbaseInstruments]).
func ParseCoinbaseProducts(data []byte) ([]Instrument, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		return parseCoinbaseExchangeProducts(data)
	}
	var ans struct {
		Products *[]struct {
			ProductID     string `json:"product_id"`
			BaseCurrency  string `json:"base_currency_id"`
			QuoteCurrency string `json:"quote_currency_id"`
			ProductType   string `json:"product_type"`
			PriceInc      string `json:"price_increment"`
			QuoteInc      string `json:"quote_increment"`
			BaseInc       string `json:"base_increment"`
			BaseMin       string `json:"base_min_size"`
			BaseMax       string `json:"base_max_size"`
			QuoteMin      string `json:"quote_min_size"`
			QuoteMax      string `json:"quote_max_size"`
			coinbaseTradingFlags
			Future struct {
				ContractSize       string `json:"contract_size"`
				ContractRootUnit   string `json:"contract_root_unit"`
				ContractExpiryType string `json:"contract_expiry_type"`
			} `json:"future_product_details"`
		} `json:"products"`
	}
	if err := decodeREST(data, &ans, schema.VenueCoinbase, "products"); err != nil {
		return nil, err
	}
	if ans.Products == nil {
		return nil, &ParseError{Venue: schema.VenueCoinbase, Stream: "products", Field: "products", Err: ErrMissingField}
	}
	ins := make([]Instrument, 0, len(*ans.Products))
	for _, d := range *ans.Products {
		in := Instrument{Symbol: d.ProductID, Base: d.BaseCurrency, Quote: d.QuoteCurrency}
		r := &in.Rules
		r.Trading = d.trading()
		fields := []ruleField{{"price_increment", d.PriceInc, &r.TickSize}, {"base_increment", d.BaseInc, &r.StepSize},
			{"base_min_size", d.BaseMin, &r.MinQty}, {"base_max_size", d.BaseMax, &r.MaxQty},
			{"quote_min_size", d.QuoteMin, &r.MinNotional}, {"quote_max_size", d.QuoteMax, &r.MaxNotional},
			// A market order by quote_size is bounded and stepped in the
			// quote currency too.
			{"quote_min_size", d.QuoteMin, &r.MarketMinNotional}, {"quote_max_size", d.QuoteMax, &r.MarketMaxNotional},
			{"quote_increment", d.QuoteInc, &r.QuoteStep}}
		if d.ProductType == "FUTURE" {
			if d.Future.ContractRootUnit != "" {
				in.Base = d.Future.ContractRootUnit
			}
			in.Contract = coinbaseContract(d.ProductID, d.Future.ContractExpiryType)
			fields = append(fields, ruleField{"contract_size", d.Future.ContractSize, &r.ContractSize})
		}
		if in.Symbol == "" || in.Base == "" || in.Quote == "" {
			continue
		}
		if err := setRules(schema.VenueCoinbase, "products", d.ProductID, fields...); err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	return ins, nil
}

// coinbaseContract is a future's canonical contract: PERP, or the middle
// part of its product id ("BIP-20DEC30-CDE" is 20DEC30).
func coinbaseContract(productID, expiryType string) string {
	if expiryType == "PERPETUAL" {
		return "PERP"
	}
	parts := strings.Split(productID, "-")
	if len(parts) == 3 {
		return parts[1]
	}
	return ""
}

func parseCoinbaseExchangeProducts(data []byte) ([]Instrument, error) {
	var ans []struct {
		ID             string `json:"id"`
		BaseCurrency   string `json:"base_currency"`
		QuoteCurrency  string `json:"quote_currency"`
		QuoteIncrement string `json:"quote_increment"`
		BaseIncrement  string `json:"base_increment"`
		MinMarketFunds string `json:"min_market_funds"`
		coinbaseTradingFlags
	}
	if err := decodeREST(data, &ans, schema.VenueCoinbase, "products"); err != nil {
		return nil, err
	}
	ins := make([]Instrument, 0, len(ans))
	for _, d := range ans {
		if d.ID == "" || d.BaseCurrency == "" || d.QuoteCurrency == "" {
			continue
		}
		in := Instrument{Symbol: d.ID, Base: d.BaseCurrency, Quote: d.QuoteCurrency}
		r := &in.Rules
		r.Trading = d.trading()
		err := setRules(schema.VenueCoinbase, "products", d.ID,
			ruleField{"quote_increment", d.QuoteIncrement, &r.TickSize}, ruleField{"base_increment", d.BaseIncrement, &r.StepSize},
			ruleField{"min_market_funds", d.MinMarketFunds, &r.MinNotional}, ruleField{"min_market_funds", d.MinMarketFunds, &r.MarketMinNotional},
			ruleField{"quote_increment", d.QuoteIncrement, &r.QuoteStep})
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	return ins, nil
}

// coinbaseTradingFlags say which orders a product takes (Advanced Trade
// "List Public Products": status, trading_disabled, is_disabled,
// view_only, cancel_only, limit_only, post_only; Exchange "Get all known trading
// pairs": status online, offline, internal, delisted, and the same
// flags but is_disabled).
type coinbaseTradingFlags struct {
	Status          string `json:"status"`
	TradingDisabled bool   `json:"trading_disabled"`
	IsDisabled      bool   `json:"is_disabled"`
	ViewOnly        bool   `json:"view_only"`
	CancelOnly      bool   `json:"cancel_only"`
	LimitOnly       bool   `json:"limit_only"`
	PostOnly        bool   `json:"post_only"`
}

// trading is the product's TradingStatus: halted when trading is
// disabled, view only, cancel-only or the product offline or delisted; else post
// only, limit only; open when its status is online; else not known.
func (c *coinbaseTradingFlags) trading() TradingStatus {
	switch {
	case c.TradingDisabled || c.IsDisabled || c.ViewOnly || c.CancelOnly || c.Status == "offline" || c.Status == "delisted":
		return TradingHalted
	case c.PostOnly:
		return TradingPostOnly
	case c.LimitOnly:
		return TradingLimitOnly
	case c.Status == "online":
		return TradingOpen
	}
	return TradingUnknown
}
