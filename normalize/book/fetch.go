package book

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Fetcher gets a full book snapshot for a [ResyncFetch] book. Fetch fills
// dst.Book (Bids and Asks best first, LastSeq the snapshot's last update id)
// of the canonical symbol; dst is the book's own scratch event, reset before
// the call. It is called on the goroutine applying events, without the
// book's lock: meanwhile the book's readers see it not live, at once, and
// a diff another goroutine applies is buffered behind the others. It
// should be bounded by ctx (the stream waits in the socket meanwhile).
//
// A snapshot holds the best levels only (Binance: Limit a side), and the
// diffs send only what changes, so beyond a snapshot side's worst level
// the book lacks every level that did not change: a book neither serves
// levels there ([Book.Top]) nor keeps its best bid or ask there (it
// resyncs). A Fetcher that also has a method SnapshotDepth() int, the most
// levels a side its snapshots hold ([BinanceREST] has), tells a side with
// fewer — the whole side — from a truncated one; without it, and for a
// snapshot handed to [Book.Apply] rather than fetched, every side counts
// as truncated.
type Fetcher interface {
	Fetch(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error
}

// snapshotDepth is implemented by a [Fetcher] that knows the most levels a
// side its snapshots hold ([BinanceREST]: its Limit): a snapshot side with
// fewer is the whole side, and the book need not watch its range. For a
// Fetcher without it, every snapshot side counts as truncated.
type snapshotDepth interface{ SnapshotDepth() int }

// FetcherFunc adapts a function to [Fetcher].
type FetcherFunc func(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error

// Fetch calls f.
func (f FetcherFunc) Fetch(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error {
	return f(ctx, symbol, dst)
}

// Binance's REST order book endpoints, for [BinanceREST].Path (Binance
// API docs: spot "Order book", USDⓈ-M and COIN-M futures "Order Book").
const (
	BinanceSpotDepth  = "/api/v3/depth"  // on https://api.binance.com
	BinanceUSDMDepth  = "/fapi/v1/depth" // on https://fapi.binance.com
	BinanceCOINMDepth = "/dapi/v1/depth" // on https://dapi.binance.com
)

// BinanceREST fetches a Binance order book snapshot (lastUpdateId, bids,
// asks) from the spot or futures REST depth endpoint. It is safe for
// concurrent use; its zero value is not usable (BaseURL is required).
type BinanceREST struct {
	BaseURL string // https://api.binance.com, https://fapi.binance.com, or a venuesim RESTURL
	// Path is the depth endpoint: BinanceSpotDepth (the default),
	// BinanceUSDMDepth or BinanceCOINMDepth. A futures book must take its
	// snapshot from the futures endpoint: the spot book of the same
	// symbol has other update ids.
	Path string
	// Limit is the levels per side asked for; defaults to 1000. Binance
	// serves at most 5000 (spot: "If limit > 5000, then the response will
	// truncate to 5000") and 1000 on USDⓈ-M and COIN-M (valid limits 5,
	// 10, 20, 50, 100, 500, 1000): a larger Limit asks for that maximum,
	// and a futures Limit between two valid ones for the larger.
	Limit  int
	Client *http.Client // defaults to http.DefaultClient
	// Timeout bounds each Fetch, whatever ctx and Client say; defaults to
	// 10 s. A fetch holds the goroutine applying the stream's events (not
	// the book's readers): a venue that accepts the request and never
	// answers must not stall the stream for good. It is timed on Clock
	// and on the wall clock, whichever passes it first (a Clock that
	// moves with the stream's events stands still while the fetch holds
	// them); the fetch then fails with an error matching
	// context.DeadlineExceeded.
	Timeout time.Duration
	// Clock times Timeout. Defaults to the Options.Clock of the book
	// fetching (as a replay's, a simulation's or a test's clock times
	// everything else of the book), else wsclient.SystemClock().
	Clock wsclient.Clock
	// MaxBody is the most bytes of a snapshot's body read; defaults to
	// 16 MiB (Binance's largest, 5000 levels a side, is a few hundred
	// KB). A longer body fails the fetch with a [*SnapshotSizeError]
	// after MaxBody bytes, never read whole into memory.
	MaxBody int64
	// VenueSymbol spells a canonical symbol the venue's way
	// (normalize.Symbols.VenueSymbol, with a registry that knows the
	// symbol). Defaults to Binance's rules (normalize.BinanceSymbolRules):
	// BTC-USDT is BTCUSDT, a contract's suffix follows an underscore
	// (COIN-M BTC-USD-PERP is BTCUSD_PERP, BTC-USD-250328 BTCUSD_250328:
	// Binance COIN-M "Order Book" symbol), else the dashes removed.
	VenueSymbol func(canonical string) (string, error)
}

// BinanceREST defaults, and the most of a refusal's body a FetchError
// keeps.
const (
	defaultFetchTimeout = 10 * time.Second
	defaultMaxBody      = 16 << 20
	refusalBody         = 200
)

func (f *BinanceREST) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return defaultFetchTimeout
}

func (f *BinanceREST) maxBody() int64 {
	if f.MaxBody > 0 {
		return f.MaxBody
	}
	return defaultMaxBody
}

// binanceSymbols spells canonical symbols Binance's way for BinanceREST.
var binanceSymbols = normalize.NewSymbols(normalize.BinanceSymbolRules())

// SnapshotDepth returns the most levels a side its snapshots hold, the
// limit Fetch asks for: Limit (1000 by default) up to the endpoint's
// maximum, 5000 on spot; on the futures endpoints, which take only 5, 10,
// 20, 50, 100, 500 and 1000, the least of those at or above Limit. A book uses it to tell a truncated snapshot side,
// beyond whose worst level it may not serve a top, from a whole one: taken
// as Limit above the maximum, a side the venue truncated would count as
// whole.
func (f *BinanceREST) SnapshotDepth() int {
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	switch f.Path {
	case BinanceUSDMDepth, BinanceCOINMDepth:
		for _, v := range binanceFuturesLimits {
			if limit <= v {
				return v
			}
		}
		return binanceFuturesLimits[len(binanceFuturesLimits)-1]
	}
	return min(limit, 5000)
}

// binanceFuturesLimits are the limits the USDⓈ-M and COIN-M depth
// endpoints take ("Valid limits:[5, 10, 20, 50, 100, 500, 1000]"); any
// other is refused (-1100).
var binanceFuturesLimits = [...]int{5, 10, 20, 50, 100, 500, 1000}

// Fetch implements [Fetcher].
func (f *BinanceREST) Fetch(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error {
	vs, err := binanceSymbols.VenueSymbol(symbol)
	if err != nil {
		vs = strings.ReplaceAll(symbol, "-", "")
	}
	if f.VenueSymbol != nil {
		if vs, err = f.VenueSymbol(symbol); err != nil {
			return err
		}
	}
	limit := f.SnapshotDepth()
	path := f.Path
	if path == "" {
		path = BinanceSpotDepth
	}
	u := f.BaseURL + path + "?symbol=" + url.QueryEscape(vs) + "&limit=" + strconv.Itoa(limit)
	body, err := f.get(ctx, u, symbol)
	if err != nil {
		return err
	}
	// Parsed with the caller's ctx: the request's, which its deadline's
	// end cancelled, would fail any wait the parser's pool made.
	if err := parseBinanceSnapshot(ctx, nil, vs, body, dst); err != nil {
		return fmt.Errorf("book: decoding %s snapshot: %w", symbol, err)
	}
	dst.Symbol = symbol // the caller's canonical spelling, whatever the fallback rules say
	return nil
}

// parseBinanceSnapshot decodes a Binance REST depth snapshot (a variable
// so that a test can see the ctx it is given).
var parseBinanceSnapshot = normalize.ParseBinanceDepthSnapshot

// get GETs the snapshot's body at u within the fetch's Timeout.
func (f *BinanceREST) get(ctx context.Context, u, symbol string) ([]byte, error) {
	ctx, end := fetchDeadline(ctx, f.Clock, f.timeout())
	body, err := getSnapshot(ctx, f.Client, u, symbol, f.maxBody())
	return body, end(err)
}

// getSnapshot GETs a snapshot's body at u, at most maxBody bytes: a
// refusal (a status other than 200) is a [*FetchError] with the venue's
// Retry-After, a longer body a [*SnapshotSizeError].
func getSnapshot(ctx context.Context, c *http.Client, u, symbol string, maxBody int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("book: fetching %s snapshot: %w", symbol, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// A refusal, whatever its body's length (a CDN's HTML page): its
		// Retry-After must reach the book. Only the start of the body is
		// read.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, refusalBody))
		fe := &FetchError{Symbol: symbol, Status: resp.StatusCode, Body: string(body)}
		fe.RetryAfter = wsclient.RetryAfterHeader(resp.Header, time.Now()) // an HTTP date against the venue's Date, not our clock
		return nil, fe
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("book: fetching %s snapshot: %w", symbol, err)
	}
	if int64(len(body)) > maxBody {
		return nil, &SnapshotSizeError{Symbol: symbol, Limit: maxBody}
	}
	return body, nil
}

// bookClock is the key of the fetching book's Options.Clock in the ctx
// a [Book] gives its Fetcher: the fetchers of this package time their
// Timeout on it unless they have a Clock of their own.
type bookClock struct{}

// withBookClock gives a Fetch's ctx the book's clock.
func withBookClock(ctx context.Context, c wsclient.Clock) context.Context {
	return context.WithValue(ctx, bookClock{}, c)
}

// fetchClock returns own, else the clock of the book fetching (ctx),
// else the system clock.
func fetchClock(ctx context.Context, own wsclient.Clock) wsclient.Clock {
	if own != nil {
		return own
	}
	if c, ok := ctx.Value(bookClock{}).(wsclient.Clock); ok && c != nil {
		return c
	}
	return wsclient.SystemClock()
}

// fetchTimeoutError ends a fetch its Timeout passed on (by its clock):
// it matches context.DeadlineExceeded.
type fetchTimeoutError struct{ d time.Duration }

func (e fetchTimeoutError) Error() string {
	return fmt.Sprintf("book: no snapshot within %v", e.d)
}

func (fetchTimeoutError) Unwrap() error { return context.DeadlineExceeded }

// fetchDeadline bounds a fetch by d on its clock (fetchClock: own, else
// the book's) and on the wall clock, whichever passes d first. The
// injected clock times a venue that never answers as a replay, a
// simulation or a test times the rest of the book; the wall clock
// bounds a fetch on a clock that does not move meanwhile — a replay's,
// advanced by the events the fetch keeps waiting in the socket — and the
// request goes over a real network, in real time, either way. One
// AfterFunc timer of that clock, no goroutine of the package's; on the
// system clock, a context deadline alone (which the transport sees too:
// its dial and TLS handshake keep to it). The fetch runs with the
// returned context; end stops the timers and returns the fetch's error,
// as a fetchTimeoutError (matching context.DeadlineExceeded) when either
// clock's deadline ended the fetch, whichever it was: an HTTP client
// reports the injected clock's as context.Canceled, the wall clock's as
// context.DeadlineExceeded.
func fetchDeadline(ctx context.Context, own wsclient.Clock, d time.Duration) (context.Context, func(err error) error) {
	clk := fetchClock(ctx, own)
	ctx, stop := wallBound(ctx, d)
	if clk == wsclient.SystemClock() {
		return ctx, func(err error) error { err = timedOut(ctx, err); stop(); return err }
	}
	ctx, cancel := context.WithCancelCause(ctx)
	t := clk.AfterFunc(d, func() { cancel(fetchTimeoutError{d}) })
	return ctx, func(err error) error {
		t.Stop()
		err = timedOut(ctx, err)
		cancel(nil)
		stop()
		return err
	}
}

// wallBound bounds ctx by d on the wall clock, its end's cause a
// fetchTimeoutError (see fetchDeadline).
func wallBound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d, fetchTimeoutError{d})
}

// timedOut returns err, a fetch's error, as the fetchTimeoutError that
// ended ctx, if one did.
func timedOut(ctx context.Context, err error) error {
	var te fetchTimeoutError
	if err == nil || errors.As(err, &te) || !errors.As(context.Cause(ctx), &te) {
		return err
	}
	return fmt.Errorf("%w: %w", te, err)
}
