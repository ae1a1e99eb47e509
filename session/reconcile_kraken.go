package session

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// DefaultReconcileKraken is the Kraken private REST calls per minute
// reconciliation may spend (Config.ReconcileWeight overrides it): a fifth
// of the lowest tier's sustained rate (Kraken Spot REST "Rate Limits":
// each private call adds 1 to a counter of at most 15, 2 for the trade
// history calls — QueryTrades —, decaying by 0.33 a second on the Starter
// tier: 20 calls a minute; 0.5 and 1 a second on Intermediate and Pro,
// whose hosts may give more).
const DefaultReconcileKraken = 4

// krakenHistoryPages bounds the TradesHistory pages read for one order
// whose trades QueryOrders does not list: 500 of the account's trades
// since it opened, 20 minutes of the default budget.
const krakenHistoryPages = 10

// krakenNonces holds the last nonce of each Kraken API key, shared by
// every session of the process: Kraken refuses a private call whose nonce
// is not above the key's last one ("EAPI:Invalid nonce"), whichever
// caller — the WebSocket token's request, a reconciliation's query, or
// another session with the same key — made it.
var krakenNonces sync.Map // API key → *atomic.Uint64

// krakenNonce returns the next nonce of apiKey: now in Unix milliseconds,
// or one above the key's last nonce when that is not below it. Safe for
// concurrent use: every caller gets a nonce of its own, strictly above
// every nonce returned before.
func krakenNonce(apiKey string, now time.Time) uint64 {
	v, ok := krakenNonces.Load(apiKey)
	if !ok {
		v, _ = krakenNonces.LoadOrStore(apiKey, new(atomic.Uint64))
	}
	last := v.(*atomic.Uint64)
	for {
		old := last.Load()
		next := max(uint64(max(now.UnixMilli(), 0)), old+1)
		if last.CompareAndSwap(old, next) {
			return next
		}
	}
}

// krakenQueries asks Kraken's Spot REST API (Kraken Spot REST, "Account
// Data → Query Orders Info", "Query Trades Info", "Get Open Orders", "Get
// Closed Orders"), each a POST signed with the key (API-Key, API-Sign)
// and a nonce from krakenNonce.
//
// An order's fills are the trades its QueryOrders answer lists
// (trades=true), read by txid with QueryTrades, 20 a page, rather than
// pages of the whole account's TradesHistory (50 a page, newest first,
// each page 2 on the counter, every other order's fills read too). Only
// when that list is missing ("if … data available") are they read from
// TradesHistory, between the order's opening and closing times, at most
// krakenHistoryPages pages (offset ofs); the fills found are then what the
// venue has, and the executed quantity tells the host when they fall
// short. With consolidate_taker=false: a taker order's fills one by one, each with
// the trade_id the executions channel streams, so that the two are
// deduplicated by it.
//
// The account's open orders are not read here: the executions channel's
// subscription asks for them (snap_orders, on every connection), with the
// WebSocket's pair names and each order's executed quantity, and the
// stream follows those the session did not see before with that quantity
// as theirs, not the session's to deliver. Its snap_trades (the last 50
// fills) is not asked for: more than 50 fills may be missed, the fills of
// orders that ended while away are what REST reads, and the orders that
// left the book in the window are not in the snapshot at all: what became
// of them only REST tells.
type krakenQueries struct {
	s   *Session
	key *KrakenKey

	mu   sync.Mutex
	last krakenLatest // the latest order answer
}

// krakenLatest is what fills needs of the latest order answer.
type krakenLatest struct {
	key            orderKey
	trades         []string // the order's trade txids
	opened, closed int64    // its opentm and, once it ended, closetm (Unix ns)
	known          bool
}

// krakenRefusals: Kraken's error strings as normalize classifies them
// (normalize.KrakenCode…): a rate limit (and HTTP 429) empties the budget
// and waits; an invalid nonce (another call of the key came first) and
// the service unavailable are tried again, signed with a new nonce, after
// the backoff, five tries at most; an unknown order does not exist.
// Kraken has no timestamp window: its nonces need no clock.
var krakenRefusals = &refusalRules{
	rateStatus: []int{http.StatusTooManyRequests},
	rateCodes:  []int64{normalize.KrakenCodeRateLimit},
	retryCodes: []int64{normalize.KrakenCodeInvalidNonce, normalize.KrakenCodeUnavailable},
	missing:    []int64{normalize.KrakenCodeUnknownOrder},
	// Kraken "Spot Client Order Identifiers": cl_ord_id is unique among
	// the client's open orders; the refusal of a duplicate is not in its
	// error list ("Spot Error Messages"): a refusal that says "duplicate"
	// (its errors carry no number: Code 0), or any refusal of a place sent
	// again after an unknown outcome, is looked up by the cl_ord_id.
	duplicate:    []int64{0},
	duplicateMsg: "duplicate",
	doubtful:     true,
}

func (*krakenQueries) rules() *refusalRules { return krakenRefusals }

// budget: QueryOrders counts 1, a lookup by client order id may take two
// calls (OpenOrders, then ClosedOrders), QueryTrades and TradesHistory
// count 2.
func (*krakenQueries) budget() (perMinute, order, fills, open int) {
	return DefaultReconcileKraken, 2, 2, 1
}

// post makes the signed POST of path with params.
func (q *krakenQueries) post(ctx context.Context, path string, params url.Values) ([]byte, int, error) {
	body, headers, err := normalize.KrakenPrivateRequest(q.key.APIKey, q.key.Secret, path,
		krakenNonce(q.key.APIKey, q.s.clock.venueNow()), params)
	if err != nil {
		return nil, 0, err
	}
	return q.s.restDo(ctx, http.MethodPost, path, strings.NewReader(body), headers)
}

// orders asks path for orders (with their trades' txids, taker fills one
// by one), all of them taken as symbol's.
func (q *krakenQueries) orders(ctx context.Context, path string, params url.Values, symbol string,
	parse func([]byte, string, []normalize.KrakenOrder) ([]normalize.KrakenOrder, error)) ([]normalize.KrakenOrder, error) {
	params.Set("trades", "true")
	params.Set("consolidate_taker", "false")
	body, status, err := q.post(ctx, path, params)
	if err != nil {
		return nil, err
	}
	os, err := parse(body, symbol, nil)
	return os, restAnswer(schema.VenueKraken, status, err)
}

// order asks QueryOrders for the order by its txid, or, by client order
// id, the open orders, then the closed ones, with that cl_ord_id (the
// newest, should several closed ones share it). The order's trade txids
// are kept for fills.
func (q *krakenQueries) order(ctx context.Context, _ uint64, key orderKey, byClient bool) ([]normalize.QueryOrder, error) {
	var found *normalize.KrakenOrder
	if byClient {
		for _, l := range [...]struct {
			path  string
			parse func([]byte, string, []normalize.KrakenOrder) ([]normalize.KrakenOrder, error)
		}{{normalize.KrakenPathOpenOrders, normalize.ParseKrakenOpenOrders}, {normalize.KrakenPathClosedOrders, normalize.ParseKrakenClosedOrders}} {
			os, err := q.orders(ctx, l.path, url.Values{"cl_ord_id": {key.id.String()}}, key.symbol, l.parse)
			if err != nil {
				return nil, err
			}
			unnamed := 0
			for i := range os {
				// The venue filtered by cl_ord_id: an order that names it is
				// the one asked for, one that names another is not, and one
				// that leaves it out is only when it is the answer's only
				// order (several without it: the filter was not applied,
				// and taking one would make another client's order the
				// session's own).
				if os[i].ClientOrderID.IsZero() {
					unnamed++
				}
				mine := bytes.Equal(os[i].ClientOrderID.Bytes(), key.id.Bytes()) || (len(os) == 1 && os[i].ClientOrderID.IsZero())
				if mine && (found == nil || os[i].OrderCreated > found.OrderCreated) {
					found = &os[i]
				}
			}
			if found == nil && unnamed > 1 {
				return nil, fmt.Errorf("%w: %s by cl_ord_id %q lists %d orders without a cl_ord_id", ErrBadAnswer, l.path, key.id.String(), unnamed)
			}
			if found != nil {
				break
			}
		}
	} else {
		os, err := q.orders(ctx, normalize.KrakenPathQueryOrders, url.Values{"txid": {key.id.String()}}, key.symbol, normalize.ParseKrakenQueryOrders)
		if err != nil {
			return nil, err
		}
		for i := range os {
			if bytes.Equal(os[i].VenueOrderID.Bytes(), key.id.Bytes()) {
				found = &os[i]
			}
		}
	}
	if found == nil {
		return nil, errNoSuchOrder
	}
	last := krakenLatest{key: orderKey{symbol: key.symbol, id: found.VenueOrderID}, trades: found.Trades, opened: found.OrderCreated, known: true}
	if found.Status.Final() {
		last.closed = found.TransactTime
	}
	q.mu.Lock()
	q.last = last
	q.mu.Unlock()
	return []normalize.QueryOrder{found.QueryOrder}, nil
}

// latest is the order's latest order answer, if it was the latest.
func (q *krakenQueries) latest(key orderKey) (krakenLatest, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.last, q.last.known && q.last.key == key
}

// fills reads a page of the order's fills: QueryTrades of the next 20 of
// its trade txids (the cursor: how many were read), in the order
// QueryOrders listed them.
func (q *krakenQueries) fills(ctx context.Context, _ uint64, key orderKey, cursor string, dst []normalize.QueryFill) ([]normalize.QueryFill, string, error) {
	at, ok := q.latest(key)
	if !ok { // not the order just asked about
		if _, err := q.order(ctx, 0, key, false); err != nil {
			return dst, "", err
		}
		at, _ = q.latest(key)
	}
	if len(at.trades) == 0 {
		return q.history(ctx, &at, cursor, dst)
	}
	ids := at.trades
	from := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 || n > len(ids) {
			return dst, "", fmt.Errorf("%w: Kraken trades cursor %q of %d trades", ErrBadAnswer, cursor, len(ids))
		}
		from = n
	}
	to := min(from+normalize.KrakenQueryTradesMax, len(ids))
	if from >= to {
		return dst, "", nil
	}
	body, status, err := q.post(ctx, normalize.KrakenPathQueryTrades, url.Values{"txid": {strings.Join(ids[from:to], ",")}})
	if err != nil {
		return dst, "", err
	}
	dst, err = normalize.ParseKrakenQueryTrades(body, key.symbol, quoteAsset(key.symbol), dst)
	if err = restAnswer(schema.VenueKraken, status, err); err != nil {
		return dst, "", err
	}
	next := ""
	if to < len(ids) {
		next = strconv.Itoa(to)
	}
	return dst, next, nil
}

// history reads a page of the account's trades from TradesHistory, from
// just before the order opened to just after it closed, from offset
// cursor; past krakenHistoryPages pages it reads no more.
func (q *krakenQueries) history(ctx context.Context, at *krakenLatest, cursor string, dst []normalize.QueryFill) ([]normalize.QueryFill, string, error) {
	ofs := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 {
			return dst, "", fmt.Errorf("%w: Kraken trades history offset %q", ErrBadAnswer, cursor)
		}
		ofs = n
	}
	if ofs >= krakenHistoryPages*normalize.KrakenTradesHistoryPage {
		return dst, "", nil
	}
	params := url.Values{"ofs": {strconv.Itoa(ofs)}, "consolidate_taker": {"false"}}
	if at.opened > 0 { // exclusive
		params.Set("start", strconv.FormatInt(at.opened/1e9-1, 10))
	}
	if at.closed > 0 { // inclusive
		params.Set("end", strconv.FormatInt(at.closed/1e9+1, 10))
	}
	body, status, err := q.post(ctx, normalize.KrakenPathTradesHistory, params)
	if err != nil {
		return dst, "", err
	}
	n := len(dst)
	dst, count, err := normalize.ParseKrakenTradesHistory(body, at.key.symbol, quoteAsset(at.key.symbol), dst)
	if err = restAnswer(schema.VenueKraken, status, err); err != nil {
		return dst, "", err
	}
	if read := ofs + len(dst) - n; len(dst) > n && read < count {
		return dst, strconv.Itoa(read), nil
	}
	return dst, "", nil
}

// open reads nothing: the executions channel's snap_orders brings the open
// orders on every subscription (see krakenQueries).
func (*krakenQueries) open(_ context.Context, _ uint64, _ string, dst []normalize.QueryOrder) ([]normalize.QueryOrder, string, error) {
	return dst, "", nil
}

// quoteAsset is a canonical symbol's quote asset ("BTC-USD": USD), the
// asset of Kraken's trade fees.
func quoteAsset(symbol string) schema.ID {
	var id schema.ID
	if parts := strings.Split(symbol, "-"); len(parts) >= 2 {
		_ = id.SetBytes([]byte(parts[1]))
	}
	return id
}

// krakenReconciler makes the private connection's reconciler
// (privateSpec.queries).
func krakenReconciler(s *Session, key Key) queryBackend {
	return &krakenQueries{s: s, key: key.(*KrakenKey)}
}
