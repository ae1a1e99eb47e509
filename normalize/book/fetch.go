package book

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/meltica/meltica/schema"
)

// Fetcher gets a full book snapshot for a [ResyncFetch] book. Fetch fills
// dst.Book (Bids and Asks best first, LastSeq the snapshot's last update id)
// of the canonical symbol; dst is the book's own scratch event, reset before
// the call. It is called on the goroutine applying events, with the book
// locked, so it should be bounded by ctx.
type Fetcher interface {
	Fetch(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error
}

// FetcherFunc adapts a function to [Fetcher].
type FetcherFunc func(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error

// Fetch calls f.
func (f FetcherFunc) Fetch(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error {
	return f(ctx, symbol, dst)
}

// BinanceREST fetches Binance's GET /api/v3/depth snapshot. It is safe for
// concurrent use; its zero value is not usable (BaseURL is required).
type BinanceREST struct {
	BaseURL string       // https://api.binance.com, or a venuesim RESTURL
	Limit   int          // levels per side; defaults to 1000
	Client  *http.Client // defaults to http.DefaultClient
	// VenueSymbol spells a canonical symbol the venue's way
	// (normalize.Symbols.VenueSymbol). Defaults to removing the dashes.
	VenueSymbol func(canonical string) (string, error)
}

// binanceDepth is the REST snapshot's shape.
type binanceDepth struct {
	LastUpdateID uint64             `json:"lastUpdateId"`
	Bids         [][]schema.Decimal `json:"bids"`
	Asks         [][]schema.Decimal `json:"asks"`
}

// Fetch implements [Fetcher].
func (f *BinanceREST) Fetch(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error {
	vs := strings.ReplaceAll(symbol, "-", "")
	if f.VenueSymbol != nil {
		var err error
		if vs, err = f.VenueSymbol(symbol); err != nil {
			return err
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	u := f.BaseURL + "/api/v3/depth?symbol=" + url.QueryEscape(vs) + "&limit=" + strconv.Itoa(limit)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	c := f.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("book: fetching %s snapshot: %w", symbol, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("book: fetching %s snapshot: %w", symbol, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("book: fetching %s snapshot: %s: %.200s", symbol, resp.Status, body)
	}
	var d binanceDepth
	if err := json.Unmarshal(body, &d); err != nil {
		return fmt.Errorf("book: decoding %s snapshot: %w", symbol, err)
	}
	dst.Venue = schema.VenueBinance
	dst.Symbol = symbol
	dst.Type = schema.EventBookSnapshot
	dst.SeqProvider = d.LastUpdateID
	dst.Book.LastSeq = d.LastUpdateID
	var ok bool
	if dst.Book.Bids, ok = appendPairs(dst.Book.Bids[:0], d.Bids); ok {
		dst.Book.Asks, ok = appendPairs(dst.Book.Asks[:0], d.Asks)
	}
	if !ok {
		return fmt.Errorf("book: decoding %s snapshot: a level is not [price, qty]", symbol)
	}
	return nil
}

func appendPairs(dst []schema.Level, pairs [][]schema.Decimal) ([]schema.Level, bool) {
	for _, p := range pairs {
		if len(p) < 2 {
			return dst, false
		}
		dst = append(dst, schema.Level{Price: p[0], Qty: p[1]})
	}
	return dst, true
}
