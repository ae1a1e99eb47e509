package normalize

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/meltica/meltica/schema"
)

// KrakenAssetPairs is the path of Kraken's pair list (Kraken Spot REST,
// "Market Data → Get Tradable Asset Pairs"), on https://api.kraken.com.
const KrakenAssetPairs = "/0/public/AssetPairs"

// FetchKrakenInstruments gets GET {baseURL}/0/public/AssetPairs with
// client (http.DefaultClient when nil) and parses it with
// [ParseKrakenAssetPairs].
func FetchKrakenInstruments(ctx context.Context, client *http.Client, baseURL string) ([]Instrument, error) {
	data, err := getREST(ctx, client, baseURL+KrakenAssetPairs, schema.VenueKraken, "AssetPairs")
	if err != nil {
		return nil, err
	}
	return ParseKrakenAssetPairs(data)
}

// ParseKrakenAssetPairs reads Kraken's pair list {"error":[],"result":
// {"XXBTZUSD":{"wsname":"XBT/USD","tick_size","pair_decimals",
// "lot_decimals","ordermin","costmin",…},…}}, ready for [Symbols.Load],
// sorted by symbol. Each pair's Symbol is its WebSocket v2 name: wsname
// ("XBT/USD", v1's) with v1's asset codes XBT and XDG as v2 writes them
// ("BTC/USD", "DOGE/USD"), so that the registry gives v2's name for
// subscriptions and orders; the registry still reads v1's names. Pairs
// without a wsname are skipped. Rules (Kraken "Get Tradable Asset Pairs"): tick_size is
// TickSize (10^-pair_decimals when not sent), 10^-lot_decimals StepSize,
// ordermin MinQty and costmin MinNotional (in the quote currency), and
// MarketMinNotional: a market buy by quote amount (cash_order_qty) costs
// that amount; 10^-cost_decimals ("scaling decimal places for cost") is
// QuoteStep, the precision of that amount; status is Trading (see
// krakenTrading).
//
// A non-empty "error" is a [*RESTError]; a malformed answer or value a
// [*ParseError].
func ParseKrakenAssetPairs(data []byte) ([]Instrument, error) {
	var ans struct {
		Error  []string `json:"error"`
		Result map[string]struct {
			WSName       string `json:"wsname"`
			TickSize     string `json:"tick_size"`
			PairDecimals *int   `json:"pair_decimals"`
			LotDecimals  *int   `json:"lot_decimals"`
			OrderMin     string `json:"ordermin"`
			CostMin      string `json:"costmin"`
			CostDecimals *int   `json:"cost_decimals"`
			Status       string `json:"status"`
		} `json:"result"`
	}
	if err := decodeREST(data, &ans, schema.VenueKraken, "AssetPairs"); err != nil {
		return nil, err
	}
	if len(ans.Error) > 0 {
		return nil, &RESTError{Venue: schema.VenueKraken, Endpoint: "AssetPairs", Msg: strings.Join(ans.Error, "; ")}
	}
	ins := make([]Instrument, 0, len(ans.Result))
	for name, d := range ans.Result {
		if d.WSName == "" {
			continue
		}
		base, quote, ok := strings.Cut(d.WSName, "/")
		if !ok || base == "" || quote == "" {
			return nil, &ParseError{Venue: schema.VenueKraken, Stream: "AssetPairs " + name, Field: "wsname", Err: wrapBad("want BASE/QUOTE")}
		}
		// wsname is WebSocket v1's name (XBT/USD, XDG/USD); v2, which the
		// session's market data and orders speak, names the pair with
		// the assets' common codes (BTC/USD, DOGE/USD) and refuses the
		// v1 name ("Currency pair not supported XBT/USD": Kraken "WebSocket
		// v2 → Guides → Spot WebSocket v2 migration"; reported as
		// nautechsystems/nautilus_trader#3509 and #3960).
		base, quote = krakenV2Asset(base), krakenV2Asset(quote)
		in := Instrument{Symbol: base + "/" + quote, Base: base, Quote: quote}
		r := &in.Rules
		r.Trading = krakenTrading[d.Status]
		for _, dec := range []struct {
			name string
			n    *int
			dst  *schema.Decimal
		}{{"pair_decimals", d.PairDecimals, &r.TickSize}, {"lot_decimals", d.LotDecimals, &r.StepSize}, {"cost_decimals", d.CostDecimals, &r.QuoteStep}} {
			if dec.n == nil {
				continue
			}
			step, ok := stepOfDecimals(*dec.n)
			if !ok {
				return nil, &ParseError{Venue: schema.VenueKraken, Stream: "AssetPairs " + name, Field: dec.name, Err: wrapBad("decimals out of range")}
			}
			*dec.dst = step
		}
		err := setRules(schema.VenueKraken, "AssetPairs", name,
			ruleField{"tick_size", d.TickSize, &r.TickSize}, ruleField{"ordermin", d.OrderMin, &r.MinQty},
			ruleField{"costmin", d.CostMin, &r.MinNotional}, ruleField{"costmin", d.CostMin, &r.MarketMinNotional})
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	sort.Slice(ins, func(i, j int) bool { return ins[i].Symbol < ins[j].Symbol })
	return ins, nil
}

// krakenTrading are the pair statuses of "Get Tradable Asset Pairs"
// (status: online, cancel_only, post_only, limit_only, reduce_only); a
// word not named is TradingUnknown.
var krakenTrading = map[string]TradingStatus{
	"online": TradingOpen, "cancel_only": TradingHalted, "post_only": TradingPostOnly,
	"limit_only": TradingLimitOnly, "reduce_only": TradingReduceOnly,
}

// krakenAliases are Kraken's v1 asset codes that differ from the common
// ones (and from v2's).
var krakenAliases = map[string]string{"XBT": "BTC", "XDG": "DOGE"}

// krakenV2Asset is the asset code WebSocket v2 uses for a code of v1's
// wsname: the registry's Kraken aliases (XBT is BTC, XDG is DOGE).
func krakenV2Asset(a string) string {
	if v, ok := krakenAliases[a]; ok {
		return v
	}
	return a
}
