package normalize

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// The exchangeInfo paths of Binance's markets, for
// [FetchBinanceInstrumentsFrom].
const (
	BinanceSpotExchangeInfo  = "/api/v3/exchangeInfo"  // on https://api.binance.com
	BinanceUSDMExchangeInfo  = "/fapi/v1/exchangeInfo" // on https://fapi.binance.com
	BinanceCOINMExchangeInfo = "/dapi/v1/exchangeInfo" // on https://dapi.binance.com
)

// FetchBinanceInstruments gets GET {baseURL}/api/v3/exchangeInfo (spot)
// with client (http.DefaultClient when nil) and parses its symbols, ready
// for [Symbols.Load]. baseURL is https://api.binance.com or a venuesim
// RESTURL. For USDⓈ-M and COIN-M use [FetchBinanceInstrumentsFrom].
func FetchBinanceInstruments(ctx context.Context, client *http.Client, baseURL string) ([]Instrument, error) {
	return FetchBinanceInstrumentsFrom(ctx, client, baseURL, BinanceSpotExchangeInfo)
}

// FetchBinanceInstrumentsFrom gets GET {baseURL}{path} — path one of
// [BinanceSpotExchangeInfo], [BinanceUSDMExchangeInfo],
// [BinanceCOINMExchangeInfo] on that market's host — and parses it with
// [ParseBinanceExchangeInfo]: derivatives symbols carry their contract
// (PERP or the delivery date).
func FetchBinanceInstrumentsFrom(ctx context.Context, client *http.Client, baseURL, path string) ([]Instrument, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+path, nil)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("normalize: fetching exchangeInfo: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("normalize: fetching exchangeInfo: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("normalize: fetching exchangeInfo: %s: %.200s", resp.Status, body)
	}
	return ParseBinanceExchangeInfo(body)
}

// errNoSnapshot is returned when a snapshot decoded into no event.
var errNoSnapshot = errors.New("normalize: depth snapshot gave no event")

// ParseBinanceDepthSnapshot decodes a REST depth snapshot ({"lastUpdateId",
// "bids", "asks"}) of venueSymbol into dst as an EventBookSnapshot, with the
// same decoder the stream parser uses. dst keeps its pool header, the
// storage of its out-of-line sections (it carries none afterwards) and
// the capacity of its level slices; syms resolves the symbol (the fallback rules
// when nil). It allocates a little per call: it is meant for REST rates.
func ParseBinanceDepthSnapshot(ctx context.Context, syms *Symbols, venueSymbol string, data []byte, dst *schema.CanonicalEvent) error {
	events := pool.New("snapshot", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	got := false
	sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		defer events.Put(ev)
		if ev.Type != schema.EventBookSnapshot {
			return nil
		}
		// dst keeps its header, its sections' storage (what it carried
		// goes) and the memory of its levels and Raw.
		ev.CopyInto(dst)
		got = true
		return nil
	})
	p := NewBinance(events, sink, &Options{Symbols: syms})
	if err := p.HandleSnapshot(ctx, venueSymbol, data, 0); err != nil {
		return err
	}
	if !got {
		return errNoSnapshot
	}
	return nil
}
