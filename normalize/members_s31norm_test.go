package normalize

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// TestS31EveryNumberLands: every numeric member of every venue message
// of the corpus — the venues' documentation examples (testdata/docs, see
// its SOURCES.md; testdata/<venue>) and the shared real messages
// (../testdata/venues) — lands in an event the message normalises into,
// digit for digit, or is in s31Ignored with the reason the schema holds
// no such member. A time lands in the unit its magnitude says (10 digits
// and a fraction: s, 13: ms, 16: µs, 19: ns) as Unix ns, so a member read
// in the wrong unit fails; a sign flips only where s31Negated says the
// venue signs it the other way. A member dropped by a parser, or a new
// member a venue documents, fails here until it is mapped or listed.
func TestS31EveryNumberLands(t *testing.T) {
	var files []string
	for _, g := range []string{"testdata/docs/*.json", "testdata/*/*.json", sharedVenues + "/*.json"} {
		m, err := filepath.Glob(g)
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.NotEmpty(t, files)
	seen := map[string]bool{}
	for _, f := range files {
		venue, name := s31VenueOf(f)
		if venue == "" || seen[name] {
			continue
		}
		seen[name] = true
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		t.Run(name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := newVenueParser(venue, events, sink)
			if venue == schema.VenueCoinbase {
				_ = p.(*Parser).Symbols().Load([]Instrument{{Symbol: "BIP-20DEC30-CDE", Base: "BIP", Quote: "USD", Contract: "20DEC30"}})
			}
			if p.HandleBytes(context.Background(), raw, 1) != nil || len(sink.got) == 0 {
				t.Skip("refused or carries no event (tested where it is refused)")
			}
			have := map[string]bool{}
			for _, ev := range sink.got {
				s31Values(reflect.ValueOf(ev).Elem(), have)
			}
			leaves := map[string]string{}
			s31Leaves(t, raw, leaves)
			var missing []string
			for path, v := range leaves {
				if !s31Numeric.MatchString(v) || s31Trivial(v) || s31Listed(s31Ignored, venue, path) {
					continue
				}
				if have[s31AsTime(v)] || have[v] || s31Listed(s31Negated, venue, path) && have[s31Neg(v)] {
					continue
				}
				missing = append(missing, path+"="+v)
			}
			sort.Strings(missing)
			assert.Empty(t, missing, "members that land nowhere (map them, or list them in s31Ignored with the doc's reason)")
			require.Zero(t, events.Stats().InUse)
		})
	}
}

var (
	s31Index     = regexp.MustCompile(`\[[0-9]+\]`)
	s31LastIndex = regexp.MustCompile(`\[[0-9]+\]$`)
)

var s31Numeric = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// s31Trivial: values that prove nothing when found (a 0, a 1, a -1 "none").
func s31Trivial(v string) bool {
	return strings.Trim(strings.TrimPrefix(v, "-"), "0.") == "" || v == "1" || v == "-1" || v == "1.0"
}

// s31AsTime returns v as Unix ns when its magnitude is an epoch time in
// s, ms, µs or ns (2001–2286), else "".
func s31AsTime(v string) string {
	whole, frac, _ := strings.Cut(v, ".")
	if strings.HasPrefix(whole, "-") || len(whole) < 10 || whole[0] != '1' && whole[0] != '2' {
		return ""
	}
	switch len(whole) {
	case 10: // s, with up to 9 fraction digits
		return whole + (frac + "000000000")[:9]
	case 13:
		if frac == "" {
			return whole + "000000"
		}
	case 16:
		if frac == "" {
			return whole + "000"
		}
	case 19:
		return whole
	}
	return ""
}

func s31Neg(v string) string {
	if strings.HasPrefix(v, "-") {
		return v[1:]
	}
	return "-" + v
}

// s31Listed reports whether venue's member at path matches one of the
// venue's patterns (a path suffix: ".o.AP", or "*" for any index).
func s31Listed(table map[schema.Venue][]s31Member, venue schema.Venue, path string) bool {
	// indices are any ("[]") but a final one, which names a member of a
	// level or a v1 array ("[2]": a level's time)
	last := s31LastIndex.FindString(path)
	p := s31Index.ReplaceAllString(strings.TrimSuffix(path, last), "[]") + last
	for _, m := range table[venue] {
		if strings.HasSuffix(p, m.path) {
			return true
		}
	}
	return false
}

type s31Member struct{ path, why string }

// s31Negated: members the venue signs as the account's gain where the
// schema signs them as paid.
var s31Negated = map[schema.Venue][]s31Member{
	schema.VenueOKX: {
		{".fillFee", `OKX "Order channel": fillFee negative is a charge; Execution.Fee is positive paid`},
		{".fee", `OKX "Order channel": fee (accumulated), the first fill's when fillFee is absent`},
	},
}

// s31Ignored: documented members the canonical schema has no field for,
// each with the page that defines it. Ids and sequences the parser reads
// for continuity only are listed too.
var s31Ignored = map[schema.Venue][]s31Member{
	schema.VenueBinance: {
		{".E", `event time where the message's own time ("T" trade/transaction time) is ExchangeTS`},
		{".T", `futures bookTicker/depthUpdate "T" transaction time: ExchangeTS is "E", event time`},
		{".l", `aggTrade "l" last trade id: Trade.ID is the aggregate id "a"`},
		{".b", `trade "b" buyer's order id (older "Trade Streams" payloads): no Trade field`},
		{".a", `trade "a" seller's order id (older "Trade Streams" payloads): no Trade field`},
		{".f", `aggTrade "f" first trade id`},
		{".k.f", `kline "f" first trade id`},
		{".k.L", `kline "L" last trade id`},
		{".k.V", `kline "V" taker buy base volume: no Kline field`},
		{".k.Q", `kline "Q" taker buy quote volume: no Kline field`},
		{".k.B", `kline "B": "Ignore" (Binance "Kline/Candlestick Streams")`},
		{".w", `24hrTicker "w" weighted average price: no Ticker field`},
		{".x", `24hrTicker "x" first trade before the window`},
		{".F", `24hrTicker "F" first trade id`},
		{".L", `24hrTicker "L" last trade id`},
		{".O", `24hrTicker "O" statistics open time is WindowOpen` /* checked by time */},
		{".ap", `markPriceUpdate "ap": moving average of the mark price basis: no Mark field`},
		{".o.a", `ORDER_TRADE_UPDATE "a" ask notional: no Execution field`},
		{".o.b", `ORDER_TRADE_UPDATE "b" bids notional`},
		{".o.AP", `ORDER_TRADE_UPDATE "AP" trailing stop activation price: no Execution field`},
		{".o.cr", `ORDER_TRADE_UPDATE "cr" trailing stop callback rate`},
		{".o.sp", `ORDER_TRADE_UPDATE "sp" on TRAILING_STOP_MARKET: "ignore with TRAILING_STOP_MARKET order"`},
		{".o.gtd", `ORDER_TRADE_UPDATE "gtd" good-till date`},
		{".I", `executionReport "I": "Ignore"`},
		{".g", `executionReport "g" order list id`},
		{".u", `depthUpdate "u" last update id where the book is a partial depth view (LastSeq of a snapshot)`},
		{".U", `depthUpdate "U" of a partial depth view`},
		{".pu", `depthUpdate "pu" of a partial depth view`},
		{".a.P[].cr", `ACCOUNT_UPDATE "cr" accumulated realized: Position has no field`},
		{".a.P[].iw", `ACCOUNT_UPDATE "iw" isolated wallet`},
		{".a.B[].bc", `ACCOUNT_UPDATE "bc" balance change except PnL and commission`},
		{".a.B[].cw", `ACCOUNT_UPDATE "cw" cross wallet balance`},
		{".status", `WebSocket API response HTTP-like status: the ack's success is in its kind`},
		{".rateLimits[].limit", `WebSocket API rate limits`},
		{".rateLimits[].count", `WebSocket API rate limits`},
		{".rateLimits[].intervalNum", `WebSocket API rate limits`},
		{".subscriptionId", `WebSocket API user data subscription id`},
		{".orderListId", `order list id`},
		{".result.fills[].tradeId", `an order response's fills: the stream's reports carry them`},
		{".result.fills[].price", `an order response's fills`},
		{".result.fills[].qty", `an order response's fills`},
		{".result.fills[].commission", `an order response's fills`},
		{".result.workingTime", `order working time`},
		{".result.transactTime", `an order response's time`},
		{".lastUpdateId", `REST depth snapshot id (LastSeq) where read by the book`},
	},
	schema.VenueBybit: {
		{".ts", `Bybit v5 "ts": the system's push time; ExchangeTS is the data's own (T, cts, updatedTime)`},
		{".cs", `tickers "cs" cross sequence`},
		{".data.seq", `orderbook "seq" cross sequence: LastSeq is "u"`},
		{".seq", `execution/order "seq" cross sequence`},
		{".args[0]", `pong "args": the client's own ping time`},
		{".createdTime", `position "createdTime": no Position field`},
		{".creationTime", `private push creation time: ExchangeTS is the data's (execTime, updatedTime)`},
		{".prevPrice1h", `tickers "prevPrice1h": no Ticker field`},
		{".openInterestValue", `tickers "openInterestValue": OpenInt is "openInterest"`},
		{".price24hPcnt", `tickers "price24hPcnt" is a fraction: ChangePct is in percent (×100)`},
		{".usdIndexPrice", `spot tickers "usdIndexPrice"`},
		{".lastPriceOnCreated", `order "lastPriceOnCreated"`},
		{".triggerDirection", `order "triggerDirection" (1 rise, 2 fall)`},
		{".feeRate", `execution "feeRate": Fee is the fee paid`},
		{".markPrice", `execution/position "markPrice" beside the fill`},
		{".execValue", `execution "execValue" (price × qty)`},
		{".execPrice", `a dividend execution's "execPrice" (no fill)`},
		{".indexPrice", `execution "indexPrice"`},
		{".underlyingPrice", `option execution "underlyingPrice"`},
		{".tradeIv", `option execution "tradeIv"`},
		{".markIv", `option execution "markIv"`},
		{".closedSize", `execution "closedSize"`},
		{".leavesQty", `execution "leavesQty" where the order message carries it`},
		{".leavesValue", `order "leavesValue"`},
		{".cumExecValue", `order "cumExecValue" where CumQuoteQty comes from it only when sent`},
		{".positionIdx", `"positionIdx" 0/1/2 is PositionSide`},
		{".smpGroup", `order "smpGroup"`},
		{".tpslMode", `order TP/SL mode`},
		{".data.a[][2]", `orderbook.rpi: RPI size`},
		{".cts", `RPI orderbook "cts"`},
	},
	schema.VenueOKX: {
		{".sodUtc0", `tickers "sodUtc0" open price in UTC 0: Ticker.Open is open24h`},
		{".sodUtc8", `tickers "sodUtc8"`},
		{"[][3]", `books/bbo-tbt level [3]: the number of orders at the level`},
		{"[][2]", `books level [2]: "deprecated" liquidated orders, always "0"`},
		{".arg.uid", `private channel "uid" of the account`},
		{".posId", `positions "posId"`},
		{".cTime", `positions "cTime" creation time: ExchangeTS is uTime`},
		{".nextFundingTime", `funding-rate "nextFundingTime", the settlement after next: Mark.NextFundingTime is "fundingTime", when the rate sent is settled`},
	},
	schema.VenueKraken: {
		{".vwap", `ticker "vwap": no Ticker field`},
		{".connection_id", `status "connection_id"`},
		{"[0]", `v1 channelID`},
		{"[][2]", `v1 level/trade timestamp: ExchangeTS is the latest of them`},
	},
	schema.VenueCoinbase: {
		{".sequence_num", `Advanced Trade "sequence_num" counts the connection's messages (gaps), no product's sequence`},
		{".total_value_after_fees", `user "total_value_after_fees"`},
		{".base_increment", `status products: instrument rules`},
		{".quote_increment", `status products`},
		{".min_market_funds", `status products`},
	},
}

// s31VenueOf names a corpus file's venue and a unique name for it.
func s31VenueOf(path string) (schema.Venue, string) {
	base := strings.TrimSuffix(filepath.Base(path), ".json")
	dir := filepath.Base(filepath.Dir(path))
	v := dir
	if dir == "venues" || dir == "docs" {
		v, _, _ = strings.Cut(base, "_")
	}
	switch venue := schema.Venue(v); venue {
	case schema.VenueBinance, schema.VenueOKX, schema.VenueBybit, schema.VenueKraken, schema.VenueCoinbase:
		return venue, dir + "/" + base
	}
	return "", ""
}

// s31Leaves records the scalar leaves of msg by their paths.
func s31Leaves(t *testing.T, msg []byte, out map[string]string) {
	d := jsontext.NewDecoder(strings.NewReader(string(msg)))
	var walk func(p string)
	walk = func(p string) {
		tok, err := d.ReadToken()
		require.NoError(t, err)
		switch tok.Kind() {
		case '{':
			for d.PeekKind() != '}' {
				k, err := d.ReadToken()
				require.NoError(t, err)
				walk(p + "." + k.String())
			}
			_, err = d.ReadToken()
		case '[':
			for i := 0; d.PeekKind() != ']'; i++ {
				walk(fmt.Sprintf("%s[%d]", p, i))
			}
			_, err = d.ReadToken()
		default:
			out[p] = tok.String()
		}
		require.NoError(t, err)
	}
	walk("")
}

// s31Values records every value an event holds: decimals as their
// digits, ids, strings, and integers (times in Unix ns).
func s31Values(v reflect.Value, out map[string]bool) {
	switch v.Kind() {
	case reflect.Struct:
		switch x := v.Interface().(type) {
		case schema.Decimal:
			out[x.String()] = true
			return
		case schema.ID:
			out[x.String()] = true
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				s31Values(v.Field(i), out)
			}
		}
	case reflect.Pointer: // an out-of-line section the event carries
		if !v.IsNil() {
			s31Values(v.Elem(), out)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			for i := range v.Len() {
				s31Values(v.Index(i), out)
			}
		}
	case reflect.String:
		out[v.String()] = true
	case reflect.Int64, reflect.Int:
		out[fmt.Sprint(v.Int())] = true
	case reflect.Uint64, reflect.Uint32:
		out[fmt.Sprint(v.Uint())] = true
	}
}
