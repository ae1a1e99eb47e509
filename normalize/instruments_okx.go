package normalize

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/meltica/meltica/schema"
)

// OKXInstruments is the path of OKX's instrument list (OKX v5 API, "Public
// Data → Get instruments"), on https://www.okx.com.
const OKXInstruments = "/api/v5/public/instruments"

// FetchOKXInstruments gets GET {baseURL}/api/v5/public/instruments?instType=
// instType (SPOT, MARGIN, SWAP or FUTURES) with client (http.DefaultClient
// when nil) and parses it with [ParseOKXInstruments]. OKX answers OPTION
// only for one instrument family (a query this call does not send): get
// that list yourself and parse it with ParseOKXInstruments.
func FetchOKXInstruments(ctx context.Context, client *http.Client, baseURL, instType string) ([]Instrument, error) {
	data, err := getREST(ctx, client, baseURL+OKXInstruments+"?instType="+url.QueryEscape(instType), schema.VenueOKX, "instruments")
	if err != nil {
		return nil, err
	}
	return ParseOKXInstruments(data)
}

// ParseOKXInstruments reads OKX's instrument list {"code":"0","msg":"",
// "data":[{instId, baseCcy, quoteCcy, uly, tickSz, lotSz, minSz, maxLmtSz,
// ctVal, …}]}, ready for [Symbols.Load]. A spot or margin pair's base and
// quote are baseCcy and quoteCcy; a swap's, future's or option's come from
// its underlying (uly "BTC-USDT"), the contract from the instId's suffix
// (SWAP is PERP). Rules (OKX "Get instruments"): tickSz is TickSize, lotSz
// StepSize, minSz MinQty, maxLmtSz MaxQty (the limit-order maximum) and,
// for derivatives, maxMktSz MarketMaxQty (the market-order maximum) and
// ctVal × ctMult ContractSize — their sizes count contracts. ctVal is counted in ctValCcy: the base asset for linear
// contracts (BTC-USDT-SWAP: 0.01 BTC), the quote for inverse ones
// (BTC-USD-SWAP: 100 USD), which set ContractInQuote. OKX sets no price
// bounds or minimum notional here. state is Trading (see okxTrading).
//
// A code other than "0" is a [*RESTError]; a malformed answer or value a
// [*ParseError].
func ParseOKXInstruments(data []byte) ([]Instrument, error) {
	var ans struct {
		Code string `json:"code"`
		Msg  string `json:"msg"`
		Data []struct {
			InstType string `json:"instType"`
			InstID   string `json:"instId"`
			State    string `json:"state"`
			BaseCcy  string `json:"baseCcy"`
			QuoteCcy string `json:"quoteCcy"`
			Uly      string `json:"uly"`
			TickSz   string `json:"tickSz"`
			LotSz    string `json:"lotSz"`
			MinSz    string `json:"minSz"`
			MaxLmtSz string `json:"maxLmtSz"`
			MaxMktSz string `json:"maxMktSz"`
			CtVal    string `json:"ctVal"`
			CtMult   string `json:"ctMult"`
			CtValCcy string `json:"ctValCcy"`
		} `json:"data"`
	}
	if err := decodeREST(data, &ans, schema.VenueOKX, "instruments"); err != nil {
		return nil, err
	}
	if ans.Code != "0" {
		code, _ := strconv.ParseInt(ans.Code, 10, 64)
		return nil, &RESTError{Venue: schema.VenueOKX, Endpoint: "instruments", Code: code, Msg: ans.Msg}
	}
	ins := make([]Instrument, 0, len(ans.Data))
	for _, d := range ans.Data {
		in := Instrument{Symbol: d.InstID, Base: d.BaseCcy, Quote: d.QuoteCcy}
		if in.Base == "" || in.Quote == "" { // derivatives: from the underlying
			in.Base, in.Quote, _ = strings.Cut(d.Uly, "-")
		}
		if in.Symbol == "" || in.Base == "" || in.Quote == "" {
			return nil, &ParseError{Venue: schema.VenueOKX, Stream: "instruments " + d.InstID, Field: "instId", Err: ErrMissingField}
		}
		r := &in.Rules
		r.Trading = okxTrading[d.State]
		fields := []ruleField{{"tickSz", d.TickSz, &r.TickSize}, {"lotSz", d.LotSz, &r.StepSize}, {"minSz", d.MinSz, &r.MinQty}, {"maxLmtSz", d.MaxLmtSz, &r.MaxQty}}
		var mult schema.Decimal
		if d.InstType != "SPOT" && d.InstType != "MARGIN" {
			// maxMktSz counts contracts here; a spot pair's is in USDT,
			// not a quantity of the base (OKX "Get instruments").
			fields = append(fields, ruleField{"ctVal", d.CtVal, &r.ContractSize}, ruleField{"ctMult", d.CtMult, &mult},
				ruleField{"maxMktSz", d.MaxMktSz, &r.MarketMaxQty})
			r.ContractInQuote = d.CtValCcy != "" && d.CtValCcy == in.Quote
		}
		if err := setRules(schema.VenueOKX, "instruments", d.InstID, fields...); err != nil {
			return nil, err
		}
		if mult.Sign() > 0 && r.ContractSize.Sign() > 0 {
			cs, err := r.ContractSize.Mul(mult)
			if err != nil {
				return nil, &ParseError{Venue: schema.VenueOKX, Stream: "instruments " + d.InstID, Field: "ctMult", Err: err}
			}
			r.ContractSize = cs
		}
		ins = append(ins, in)
	}
	return ins, nil
}

// okxTrading are the instrument states of "Get instruments" (state: live,
// suspend, preopen, test — "Test pairs, can't be traded"): live takes
// orders, suspend and test none. preopen ("before they go live"; some
// take orders in a call auction) and words not named are TradingUnknown.
var okxTrading = map[string]TradingStatus{"live": TradingOpen, "suspend": TradingHalted, "test": TradingHalted}
