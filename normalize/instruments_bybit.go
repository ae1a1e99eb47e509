package normalize

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/meltica/meltica/schema"
)

// BybitInstrumentsInfo is the path of Bybit's instrument list (Bybit v5,
// "Market → Get Instruments Info"), on https://api.bybit.com.
const BybitInstrumentsInfo = "/v5/market/instruments-info"

// maxBybitPages bounds the pages FetchBybitInstruments follows: a cursor
// that never ends is an error, not a loop.
const maxBybitPages = 100

// FetchBybitInstruments gets every page of GET {baseURL}/v5/market/
// instruments-info?category=category (spot, linear, inverse or option;
// limit=1000, following nextPageCursor) with client (http.DefaultClient
// when nil) and parses each with [ParseBybitInstruments].
func FetchBybitInstruments(ctx context.Context, client *http.Client, baseURL, category string) ([]Instrument, error) {
	var all []Instrument
	cursor := ""
	for range maxBybitPages {
		q := url.Values{"category": {category}, "limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		data, err := getREST(ctx, client, baseURL+BybitInstrumentsInfo+"?"+q.Encode(), schema.VenueBybit, "instruments-info")
		if err != nil {
			return nil, err
		}
		ins, next, err := parseBybitInstruments(data)
		if err != nil {
			return nil, err
		}
		all = append(all, ins...)
		if next == "" || next == cursor {
			return all, nil
		}
		cursor = next
	}
	return nil, fmt.Errorf("%w: Bybit instruments-info: more than %d pages", ErrMalformed, maxBybitPages)
}

// ParseBybitInstruments reads one page of Bybit's instrument list
// {"retCode":0,"retMsg":"OK","result":{"category","list":[…],
// "nextPageCursor"}}, ready for [Symbols.Load]. Rules (Bybit v5 "Get
// Instruments Info"): priceFilter.tickSize is TickSize, and minPrice and
// maxPrice (derivatives) MinPrice and MaxPrice. Derivatives:
// lotSizeFilter.qtyStep is StepSize, minOrderQty and maxOrderQty MinQty and
// MaxQty ("for Limit and PostOnly order"), maxMktOrderQty MarketMaxQty,
// minNotionalValue (linear) MinNotional. Spot: basePrecision is StepSize,
// maxLimitOrderQty (else maxOrderQty) MaxQty, maxMarketOrderQty
// MarketMaxQty, minOrderAmt and maxOrderAmt MinNotional and MaxNotional
// and, for a market order by quote amount, MarketMinNotional and
// MarketMaxNotional, and quotePrecision QuoteStep; spot's minOrderQty is not used (Bybit: "deprecated, no
// longer check minOrderQty, check minOrderAmt instead"), so MinQty stays
// zero. A perpetual (contractType LinearPerpetual or InversePerpetual)
// gets Contract "PERP"; a dated future's or option's contract is its
// symbol's suffix ("BTCUSDT-27DEC24"), an inverse future's the month code
// after its base and quote ("BTCUSDH25": BTC-USD-H25). status is Trading
// (see bybitTrading).
//
// A retCode other than 0 is a [*RESTError]; a malformed answer or value a
// [*ParseError].
func ParseBybitInstruments(data []byte) ([]Instrument, error) {
	ins, _, err := parseBybitInstruments(data)
	return ins, err
}

func parseBybitInstruments(data []byte) ([]Instrument, string, error) {
	var ans struct {
		RetCode *int64 `json:"retCode"`
		RetMsg  string `json:"retMsg"`
		Result  struct {
			List []struct {
				Symbol       string `json:"symbol"`
				Status       string `json:"status"`
				BaseCoin     string `json:"baseCoin"`
				QuoteCoin    string `json:"quoteCoin"`
				ContractType string `json:"contractType"`
				PriceFilter  struct {
					TickSize string `json:"tickSize"`
					MinPrice string `json:"minPrice"`
					MaxPrice string `json:"maxPrice"`
				} `json:"priceFilter"`
				LotSizeFilter struct {
					BasePrecision    string `json:"basePrecision"`
					QuotePrecision   string `json:"quotePrecision"`
					QtyStep          string `json:"qtyStep"`
					MinOrderQty      string `json:"minOrderQty"`
					MaxOrderQty      string `json:"maxOrderQty"`
					MinOrderAmt      string `json:"minOrderAmt"`
					MaxLimitOrderQty string `json:"maxLimitOrderQty"`
					MinNotionalValue string `json:"minNotionalValue"`
					MaxOrderAmt      string `json:"maxOrderAmt"`
					MaxMktOrderQty   string `json:"maxMktOrderQty"`    // derivatives
					MaxMarketOrdQty  string `json:"maxMarketOrderQty"` // spot
				} `json:"lotSizeFilter"`
			} `json:"list"`
			NextPageCursor string `json:"nextPageCursor"`
		} `json:"result"`
	}
	if err := decodeREST(data, &ans, schema.VenueBybit, "instruments-info"); err != nil {
		return nil, "", err
	}
	if ans.RetCode == nil {
		return nil, "", &ParseError{Venue: schema.VenueBybit, Stream: "instruments-info", Field: "retCode", Err: ErrMissingField}
	}
	if *ans.RetCode != 0 {
		return nil, "", &RESTError{Venue: schema.VenueBybit, Endpoint: "instruments-info", Code: *ans.RetCode, Msg: ans.RetMsg}
	}
	ins := make([]Instrument, 0, len(ans.Result.List))
	for _, d := range ans.Result.List {
		if d.Symbol == "" || d.BaseCoin == "" || d.QuoteCoin == "" {
			return nil, "", &ParseError{Venue: schema.VenueBybit, Stream: "instruments-info " + d.Symbol, Field: "symbol", Err: ErrMissingField}
		}
		in := Instrument{Symbol: d.Symbol, Base: d.BaseCoin, Quote: d.QuoteCoin}
		switch rest, coded := strings.CutPrefix(d.Symbol, d.BaseCoin+d.QuoteCoin); {
		case strings.HasSuffix(d.ContractType, "Perpetual"):
			in.Contract = "PERP"
		case strings.HasSuffix(d.ContractType, "Futures") && coded && rest != "" && !strings.Contains(rest, "-"):
			in.Contract = rest // inverse futures "BTCUSDH25": the month code
		}
		r, lf, pf := &in.Rules, &d.LotSizeFilter, &d.PriceFilter
		r.Trading = bybitTrading[d.Status]
		fields := []ruleField{{"tickSize", pf.TickSize, &r.TickSize}, {"minPrice", pf.MinPrice, &r.MinPrice}, {"maxPrice", pf.MaxPrice, &r.MaxPrice}}
		if lf.QtyStep != "" { // derivatives
			fields = append(fields, ruleField{"qtyStep", lf.QtyStep, &r.StepSize}, ruleField{"minOrderQty", lf.MinOrderQty, &r.MinQty},
				ruleField{"maxOrderQty", lf.MaxOrderQty, &r.MaxQty}, ruleField{"minNotionalValue", lf.MinNotionalValue, &r.MinNotional},
				ruleField{"maxMktOrderQty", lf.MaxMktOrderQty, &r.MarketMaxQty})
		} else { // spot
			maxQty, maxName := lf.MaxLimitOrderQty, "maxLimitOrderQty"
			if maxQty == "" {
				maxQty, maxName = lf.MaxOrderQty, "maxOrderQty"
			}
			// minOrderAmt and maxOrderAmt bound every order's value, a
			// market buy's by quote amount (marketUnit quoteCoin) too.
			fields = append(fields, ruleField{"basePrecision", lf.BasePrecision, &r.StepSize}, ruleField{maxName, maxQty, &r.MaxQty},
				ruleField{"minOrderAmt", lf.MinOrderAmt, &r.MinNotional}, ruleField{"minOrderAmt", lf.MinOrderAmt, &r.MarketMinNotional},
				ruleField{"maxOrderAmt", lf.MaxOrderAmt, &r.MaxNotional}, ruleField{"maxOrderAmt", lf.MaxOrderAmt, &r.MarketMaxNotional},
				ruleField{"maxMarketOrderQty", lf.MaxMarketOrdQty, &r.MarketMaxQty}, ruleField{"quotePrecision", lf.QuotePrecision, &r.QuoteStep})
		}
		err := setRules(schema.VenueBybit, "instruments-info", d.Symbol, fields...)
		if err != nil {
			return nil, "", err
		}
		ins = append(ins, in)
	}
	return ins, ans.Result.NextPageCursor, nil
}

// bybitTrading are the symbol statuses of "Get Instruments Info" (Bybit
// v5 "Enums → Symbol status": PreLaunch, Trading, Delivering, Closed):
// Trading takes orders, Closed none. PreLaunch (pre-market trading takes
// orders in its auction phases), Delivering and words not named are
// TradingUnknown.
var bybitTrading = map[string]TradingStatus{"Trading": TradingOpen, "Closed": TradingHalted}
