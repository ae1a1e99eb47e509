package pipeline

import (
	"context"
	"strconv"

	"fmt"
	json "github.com/goccy/go-json/v2"
	"slices"
	"strings"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Parser is what every normalize venue parser offers.
type Parser interface {
	HandleFrame(ctx context.Context, fr *schema.WsFrame) error
	Stats() normalize.Stats
}

// Venue is what the pipeline needs to know of one venue: its public
// market-data endpoint, its parser, its book rule and how to subscribe.
type Venue struct {
	Name schema.Venue
	URL  string // public market-data endpoint
	// Rule keeps books; nil: no books (Binance needs a REST fetcher).
	Rule *book.Rule
	// Channel is subscribed when none is given.
	Channel   string
	newParser func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) Parser
	subscribe func(channel string, symbols []string) ([]byte, error)
}

var (
	krakenV1 = book.KrakenV1
	krakenV2 = book.KrakenV2
	// okxRule keeps OKX books from the stream's snapshots alone: the
	// pipeline keeps books for replays (run.go), whose recordings hold
	// them, and a replay must not fetch today's book from OKX's REST.
	// book.OKX never goes live on the empty placeholder an OKX sends
	// since it delisted the snapshot; a session takes book.OKXFetch.
	okxRule  = book.OKX
	bybit    = book.Bybit
	coinbase = book.Coinbase
)

// Venues are the venues the tools know, by name. "kraken-v1" is Kraken's v1
// API (wss://ws.kraken.com), whose book checksum differs from v2's.
var Venues = map[string]Venue{
	"binance": {Name: schema.VenueBinance, URL: "wss://stream.binance.com:9443/stream", Channel: "trade",
		newParser: parser(normalize.NewBinance),
		subscribe: func(ch string, syms []string) ([]byte, error) {
			streams := make([]string, len(syms))
			for i, s := range syms {
				streams[i] = strings.ToLower(strings.ReplaceAll(s, "-", "")) + "@" + ch
			}
			return normalize.BinanceSubscribe(1, streams...)
		}},
	"kraken": {Name: schema.VenueKraken, URL: "wss://ws.kraken.com/v2", Rule: &krakenV2, Channel: "trade",
		newParser: parser(normalize.NewKraken),
		subscribe: func(ch string, syms []string) ([]byte, error) { return normalize.KrakenSubscribe(1, ch, syms...) }},
	"kraken-v1": {Name: schema.VenueKraken, URL: "wss://ws.kraken.com", Rule: &krakenV1, Channel: "book",
		newParser: parser(normalize.NewKraken),
		subscribe: krakenV1Subscribe},
	"coinbase": {Name: schema.VenueCoinbase, URL: "wss://advanced-trade-ws.coinbase.com", Rule: &coinbase, Channel: "market_trades",
		newParser: parser(normalize.NewCoinbase),
		subscribe: variadic(normalize.CoinbaseSubscribe)},
	"okx": {Name: schema.VenueOKX, URL: "wss://ws.okx.com:8443/ws/v5/public", Rule: &okxRule, Channel: "trades",
		newParser: parser(normalize.NewOKX),
		subscribe: variadic(normalize.OKXSubscribe)},
	"bybit": {Name: schema.VenueBybit, URL: "wss://stream.bybit.com/v5/public/spot", Rule: &bybit, Channel: "publicTrade",
		newParser: parser(normalize.NewBybit),
		subscribe: func(ch string, syms []string) ([]byte, error) {
			topics := make([]string, len(syms))
			for i, s := range syms {
				topics[i] = ch + "." + strings.ReplaceAll(s, "-", "")
			}
			return normalize.BybitSubscribe(1, topics...)
		}},
}

// VenueNames lists Venues' keys, sorted.
func VenueNames() []string {
	names := make([]string, 0, len(Venues))
	for n := range Venues {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Lookup returns the venue of a name, or an error naming the known ones.
func Lookup(name string) (Venue, error) {
	v, ok := Venues[name]
	if !ok {
		return Venue{}, fmt.Errorf("unknown venue %q (known: %s)", name, strings.Join(VenueNames(), ", "))
	}
	return v, nil
}

// Subscription returns the subscribe message for channel (the venue's
// default when empty) and symbols, spelled as the venue spells them.
func (v Venue) Subscription(channel string, symbols []string) ([]byte, error) {
	if channel == "" {
		channel = v.Channel
	}
	return v.subscribe(channel, symbols)
}

// krakenV1Subscribe is Kraken's v1 subscribe event; "book-100" asks for
// the book at depth 100. normalize builds v2 requests only.
func krakenV1Subscribe(ch string, syms []string) ([]byte, error) {
	var req struct {
		Event        string   `json:"event"`
		Pair         []string `json:"pair"`
		Subscription struct {
			Name  string `json:"name"`
			Depth int    `json:"depth,omitzero"`
		} `json:"subscription"`
	}
	name, depth, _ := strings.Cut(ch, "-")
	req.Event, req.Pair, req.Subscription.Name = "subscribe", syms, name
	if depth != "" {
		d, err := strconv.Atoi(depth)
		if err != nil {
			return nil, fmt.Errorf("kraken-v1: channel %q: depth is not a number", ch)
		}
		req.Subscription.Depth = d
	}
	return json.Marshal(&req)
}

func parser[P Parser](f func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) P) func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) Parser {
	return func(e *pool.Pool[*schema.CanonicalEvent], s normalize.Sink, o *normalize.Options) Parser {
		return f(e, s, o)
	}
}

func variadic(f func(string, ...string) ([]byte, error)) func(string, []string) ([]byte, error) {
	return func(ch string, syms []string) ([]byte, error) { return f(ch, syms...) }
}
