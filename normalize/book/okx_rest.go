package book

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/goccy/go-json/jsontext"

	"github.com/meltica/meltica/internal/safejson"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// OKXBooksPath is OKX's REST order book endpoint, for [OKXREST] (OKX API
// v5 "Get order book", GET /api/v5/market/books on https://www.okx.com).
const OKXBooksPath = "/api/v5/market/books"

// okxMaxSize is the most levels a side GET /api/v5/market/books serves
// ("sz: Order book depth per side. Maximum 400").
const okxMaxSize = 400

// OKXREST fetches an OKX order book snapshot (asks, bids, ts, seqId) from
// GET /api/v5/market/books, for an [OKXFetch] book: OKX delists the
// initial snapshot of its books channels (API changelog "Delist initial
// snapshot and checksum field in order book channels"), and its "How to
// manage a local order book correctly" takes the snapshot from this
// endpoint, aligned on seqId. Fetch sets dst.Book.LastSeq to the
// snapshot's seqId (a snapshot without one is refused: it could not be
// aligned with the stream). It is safe for concurrent use; its zero value
// is not usable (BaseURL is required).
type OKXREST struct {
	BaseURL string // https://www.okx.com, or a venuesim RESTURL
	// Size is the levels per side asked for (sz); defaults to 400, OKX's
	// maximum and the depth of its books channel. It should be at least
	// the book's Rule.Depth: a book keeps what the snapshot holds.
	Size   int
	Client *http.Client // defaults to http.DefaultClient
	// Timeout bounds each Fetch's request, whatever ctx and Client say;
	// defaults to 10 s. It is timed on Clock and on the wall clock,
	// whichever passes it first, as a [BinanceREST]'s; so is a wait for
	// the Limiter's window.
	Timeout time.Duration
	// Clock times Timeout, and the Limiter's waits when the Limiter has
	// no Clock. Defaults to the Options.Clock of the book fetching, else
	// wsclient.SystemClock().
	Clock wsclient.Clock
	// MaxBody is the most bytes of a snapshot's body read; defaults to
	// 16 MiB (400 levels a side is some 40 KB). A longer body fails the
	// fetch with a [*SnapshotSizeError].
	MaxBody int64
	// VenueSymbol spells a canonical symbol as its instId. Defaults to
	// OKX's rules (normalize.OKXSymbolRules): BTC-USDT is BTC-USDT,
	// BTC-USDT-PERP is BTC-USDT-SWAP.
	VenueSymbol func(canonical string) (string, error)
	// Limiter keeps the fetches inside OKX's limit of the endpoint (40
	// requests per 2 s per IP, and none for 2 s after a 429 / 50011):
	// give one to every OKXREST of a process. Defaults to one of this
	// OKXREST's own. A fetch waits for its turn (on the Limiter's Clock,
	// bounded by ctx), unless the wait is longer than Timeout: then it
	// fails at once with a [*FetchError] (Status 429, RetryAfter the
	// wait), sending nothing; so does a fetch whose wait ended inside
	// the pause after another's 429 / 50011 (RetryAfter the rest of the
	// pause). A fetch that sends nothing (that pause, or its ctx ended
	// while it waited) gives its slot back. A 429 or 50011 answer is a
	// *FetchError with RetryAfter at least 2 s.
	Limiter *OKXLimiter
	own     OKXLimiter
}

func (f *OKXREST) limiter() *OKXLimiter {
	if f.Limiter != nil {
		return f.Limiter
	}
	return &f.own
}

// wait waits for the limiter's next slot, at most timeout.
func (f *OKXREST) wait(ctx context.Context, clk wsclient.Clock, symbol string, timeout time.Duration) error {
	l := f.limiter()
	d, at, ok := l.reserve(clk, timeout)
	if !ok {
		return &FetchError{Symbol: symbol, Status: http.StatusTooManyRequests, RetryAfter: d,
			Body: "not sent: the OKXLimiter's requests to " + OKXBooksPath + " are spent"}
	}
	if d <= 0 {
		return nil
	}
	_, _, c := l.limits(clk)
	wctx, stop := ctx, context.CancelFunc(func() {})
	if c != wsclient.SystemClock() {
		wctx, stop = wallBound(ctx, timeout) // d ≤ timeout, on a clock that may not move (fetchDeadline)
	}
	err := timedOut(wctx, c.Sleep(wctx, d))
	stop()
	if err != nil {
		l.release(at) // not sent
		return fmt.Errorf("book: waiting for the OKXLimiter's slot for %s: %w", symbol, err)
	}
	if p := l.paused(clk); p > 0 {
		// A 429 / 50011 came while this fetch waited for its slot: the
		// pause holds it too (its slot is given back: not sent).
		l.release(at)
		return &FetchError{Symbol: symbol, Status: http.StatusTooManyRequests, RetryAfter: p,
			Body: "not sent: OKX answered Too Many Requests to another fetch meanwhile"}
	}
	return nil
}

// refused makes a 429 / 50011 answer pause the limiter, and the book
// wait as long.
func (f *OKXREST) refused(clk wsclient.Clock, err error) error {
	var fe *FetchError
	if errors.As(err, &fe) && okxTooManyRequests(fe) {
		fe.RetryAfter = max(fe.RetryAfter, f.limiter().refused(clk))
	}
	return err
}

// okxSymbols spells canonical symbols OKX's way for OKXREST.
var okxSymbols = normalize.NewSymbols(normalize.OKXSymbolRules())

// SnapshotDepth returns the levels a side Fetch asks for: Size (400 by
// default) up to OKX's maximum, 400.
func (f *OKXREST) SnapshotDepth() int {
	if f.Size <= 0 {
		return okxMaxSize
	}
	return min(f.Size, okxMaxSize)
}

// Fetch implements [Fetcher]. A venue error (code other than "0") is a
// [*FetchError] with the HTTP status 200 and the venue's answer as Body.
// It waits for the Limiter first.
func (f *OKXREST) Fetch(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error {
	inst, err := okxSymbols.VenueSymbol(symbol)
	if err != nil {
		inst = symbol
	}
	if f.VenueSymbol != nil {
		if inst, err = f.VenueSymbol(symbol); err != nil {
			return err
		}
	}
	timeout, maxBody := f.Timeout, f.MaxBody
	if timeout <= 0 {
		timeout = defaultFetchTimeout
	}
	if maxBody <= 0 {
		maxBody = defaultMaxBody
	}
	u := f.BaseURL + OKXBooksPath + "?instId=" + url.QueryEscape(inst) + "&sz=" + strconv.Itoa(f.SnapshotDepth())
	clk := fetchClock(ctx, f.Clock)
	if err := f.wait(ctx, clk, symbol, timeout); err != nil {
		return err
	}
	ctx, end := fetchDeadline(ctx, clk, timeout)
	body, err := getSnapshot(ctx, f.Client, u, symbol, maxBody)
	if err = end(err); err != nil {
		return f.refused(clk, err)
	}
	if err := decodeOKXBooks(body, dst); err != nil {
		var fe *FetchError
		if errors.As(err, &fe) {
			fe.Symbol = symbol
			return f.refused(clk, fe)
		}
		return fmt.Errorf("book: decoding %s snapshot: %w", symbol, err)
	}
	dst.Venue, dst.Type, dst.Symbol = schema.VenueOKX, schema.EventBookSnapshot, symbol
	return nil
}

// okxBooksAnswer is GET /api/v5/market/books's answer: code "0" and one
// element of data, whose levels are [price, size, "0" (deprecated
// liquidated orders), orders].
type okxBooksAnswer struct {
	Code jsontext.Value `json:"code"`
	Data []struct {
		Asks  [][]string     `json:"asks"`
		Bids  [][]string     `json:"bids"`
		TS    jsontext.Value `json:"ts"`
		SeqID jsontext.Value `json:"seqId"`
	} `json:"data"`
}

// errOKXSnapshot is an OKX books answer that is not a usable snapshot.
var errOKXSnapshot = errors.New("not an OKX books snapshot")

// decodeOKXBooks decodes an answer of GET /api/v5/market/books into dst's
// Book (levels best first as OKX sends them, LastSeq the seqId) and
// ExchangeTS. A venue error is a *FetchError (Status 200); a malformed
// answer, one without data, seqId or ts, or a level that is not a
// positive price and size, an error wrapping errOKXSnapshot.
func decodeOKXBooks(body []byte, dst *schema.CanonicalEvent) error {
	var a okxBooksAnswer
	if err := safejson.Unmarshal(body, &a); err != nil { // a decoder panic too: a *safejson.PanicError
		return fmt.Errorf("%w: %w", errOKXSnapshot, err)
	}
	if code := unquote(a.Code); string(code) != "0" {
		if len(a.Code) == 0 {
			return fmt.Errorf("%w: no code", errOKXSnapshot)
		}
		return &FetchError{Status: http.StatusOK, Body: string(body[:min(len(body), refusalBody)])}
	}
	if len(a.Data) != 1 {
		return fmt.Errorf("%w: %d elements of data", errOKXSnapshot, len(a.Data))
	}
	d := &a.Data[0]
	seq, err := strconv.ParseUint(string(unquote(d.SeqID)), 10, 64)
	if err != nil || seq == 0 {
		return fmt.Errorf("%w: seqId %q", errOKXSnapshot, d.SeqID)
	}
	ts, err := strconv.ParseInt(string(unquote(d.TS)), 10, 64)
	if err != nil || ts <= 0 || ts > 1<<62/int64(time.Millisecond) {
		return fmt.Errorf("%w: ts %q", errOKXSnapshot, d.TS)
	}
	bk := &dst.Book
	if bk.Bids, err = appendOKXLevels(bk.Bids[:0], d.Bids); err != nil {
		return err
	}
	if bk.Asks, err = appendOKXLevels(bk.Asks[:0], d.Asks); err != nil {
		return err
	}
	bk.LastSeq, bk.FirstSeq, bk.PrevSeq = seq, 0, 0
	dst.ExchangeTS = ts * int64(time.Millisecond)
	return nil
}

// unquote returns a JSON string's or number's text.
func unquote(v jsontext.Value) []byte {
	return bytes.Trim(bytes.TrimSpace(v), `"`)
}

// appendOKXLevels appends OKX levels [price, size, ...] to dst.
func appendOKXLevels(dst []schema.Level, src [][]string) ([]schema.Level, error) {
	for _, l := range src {
		if len(l) < 2 {
			return dst, fmt.Errorf("%w: level %q", errOKXSnapshot, l)
		}
		px, err := schema.ParseDecimal(l[0])
		if err != nil || px.Sign() <= 0 {
			return dst, fmt.Errorf("%w: price %q", errOKXSnapshot, l[0])
		}
		qty, err := schema.ParseDecimal(l[1])
		if err != nil || qty.Sign() <= 0 {
			return dst, fmt.Errorf("%w: size %q", errOKXSnapshot, l[1])
		}
		dst = append(dst, schema.Level{Price: px, Qty: qty})
	}
	return dst, nil
}
