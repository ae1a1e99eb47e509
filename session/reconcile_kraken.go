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
// each page 2 on the counter, every other order's fills read too).
// consolidate_taker=false: a taker order's fills one by one, each with
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

	mu     sync.Mutex
	last   orderKey // the order of the latest order answer
	trades []string // its trade txids
	known  bool
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
}

func (*krakenQueries) rules() *refusalRules { return krakenRefusals }

// budget: QueryOrders counts 1, a lookup by client order id may take two
// calls (OpenOrders, then ClosedOrders), QueryTrades counts 2.
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
			for i := range os {
				if bytes.Equal(os[i].ClientOrderID.Bytes(), key.id.Bytes()) && (found == nil || os[i].OrderCreated > found.OrderCreated) {
					found = &os[i]
				}
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
	q.mu.Lock()
	q.last, q.trades, q.known = orderKey{symbol: key.symbol, id: found.VenueOrderID}, found.Trades, true
	q.mu.Unlock()
	return []normalize.QueryOrder{found.QueryOrder}, nil
}

// tradeIDs are the order's trade txids, as its latest order answer listed
// them.
func (q *krakenQueries) tradeIDs(key orderKey) ([]string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.known || q.last != key {
		return nil, false
	}
	return q.trades, true
}

// fills reads a page of the order's fills: QueryTrades of the next 20 of
// its trade txids (the cursor: how many were read), in the order
// QueryOrders listed them.
func (q *krakenQueries) fills(ctx context.Context, _ uint64, key orderKey, cursor string, dst []normalize.QueryFill) ([]normalize.QueryFill, string, error) {
	ids, ok := q.tradeIDs(key)
	if !ok { // not the order just asked about
		if _, err := q.order(ctx, 0, key, false); err != nil {
			return dst, "", err
		}
		ids, _ = q.tradeIDs(key)
	}
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
