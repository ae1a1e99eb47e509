package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// DefaultReconcileCoinbase is the Coinbase requests per minute
// reconciliation may spend: a fifth of the 30 per second per user of
// Advanced Trade's private REST endpoints ("REST API Rate Limits").
const DefaultReconcileCoinbase = 360

// coinbaseQueries asks Coinbase Advanced Trade's REST API ("Orders → Get
// Order", "List Fills", "List Orders"), each request with a JWT of its own
// (normalize.CoinbaseRESTJWT: the key's name, the venue's time, the uri
// claim "GET host/path", host that of Endpoints.REST) as "Authorization:
// Bearer".
//
// The user channel reports an order's cumulative quantities, never its
// fills: its fills carry no trade id, and are matched with the fills
// query's by quantity (see tracked.grown).
type coinbaseQueries struct {
	s    *Session
	key  *CoinbaseKey
	host string
}

// coinbaseRefusals: Advanced Trade answers HTTP 429 past its limits; 5xx
// may pass when tried again; an order it does not have is HTTP 404 (Get
// Order), errNoSuchOrder. Its errors carry no code to retry on.
var coinbaseRefusals = &refusalRules{rateStatus: []int{http.StatusTooManyRequests}}

func (*coinbaseQueries) rules() *refusalRules { return coinbaseRefusals }

func (*coinbaseQueries) budget() (perMinute, order, fills, open int) {
	return DefaultReconcileCoinbase, 1, 1, 1
}

func (q *coinbaseQueries) get(ctx context.Context, path, query string) ([]byte, int, error) {
	s := q.s
	return s.restGet(ctx, path, query, func(string) (map[string]string, error) {
		jwt, err := normalize.CoinbaseRESTJWT(q.key.Name, q.key.Key, s.clock.venueNow(), http.MethodGet, q.host, path)
		if err != nil {
			return nil, err
		}
		return map[string]string{"Authorization": "Bearer " + jwt}, nil
	})
}

// errByClientID: Coinbase orders are not placed by the session, so none
// has an outcome to look up by its client order id.
var errByClientID = errors.New("session: Coinbase orders are not looked up by client order id")

func (q *coinbaseQueries) order(ctx context.Context, _ uint64, key orderKey, byClient bool) ([]normalize.QueryOrder, error) {
	if byClient {
		return nil, errByClientID
	}
	body, status, err := q.get(ctx, normalize.CoinbasePathOrder+url.PathEscape(key.id.String()), "")
	if err != nil {
		return nil, err
	}
	os, err := normalize.ParseCoinbaseOrder(body, q.s.syms)
	err = restAnswer(schema.VenueCoinbase, status, err)
	if status == http.StatusNotFound {
		return nil, fmt.Errorf("%w: %w", errNoSuchOrder, err)
	}
	return os, err
}

// fills reads a page of the order's fills; the next page is the answer's
// cursor, until it is "".
func (q *coinbaseQueries) fills(ctx context.Context, _ uint64, key orderKey, cursor string, dst []normalize.QueryFill) ([]normalize.QueryFill, string, error) {
	body, status, err := q.get(ctx, normalize.CoinbasePathFills, "order_ids="+url.QueryEscape(key.id.String())+
		"&limit="+strconv.Itoa(normalize.CoinbaseQueryLimit)+cursorParam(cursor))
	if err != nil {
		return dst, "", err
	}
	dst, next, err := normalize.ParseCoinbaseFills(body, q.s.syms, dst)
	return dst, next, restAnswer(schema.VenueCoinbase, status, err)
}

// open reads a page of the account's open spot orders (the user channel
// brings every product's; the session's symbols are Coinbase's spot
// products); the next page is the answer's cursor while has_next.
func (q *coinbaseQueries) open(ctx context.Context, _ uint64, cursor string, dst []normalize.QueryOrder) ([]normalize.QueryOrder, string, error) {
	body, status, err := q.get(ctx, normalize.CoinbasePathOrders, "order_status=OPEN&product_type=SPOT&limit="+
		strconv.Itoa(normalize.CoinbaseQueryLimit)+cursorParam(cursor))
	if err != nil {
		return dst, "", err
	}
	dst, next, err := normalize.ParseCoinbaseOrders(body, q.s.syms, dst)
	return dst, next, restAnswer(schema.VenueCoinbase, status, err)
}

func cursorParam(cursor string) string {
	if cursor == "" {
		return ""
	}
	return "&cursor=" + url.QueryEscape(cursor)
}

// coinbaseReconciler makes the private connection's reconciler
// (privateSpec.queries).
func coinbaseReconciler(s *Session, key Key) queryBackend {
	q := &coinbaseQueries{s: s, key: key.(*CoinbaseKey)}
	if u, err := url.Parse(s.cfg.Endpoints.REST); err == nil {
		q.host = uriHost(u) // an unreadable REST base fails every query (no host to sign): logged and counted
	}
	return q
}

// uriHost is the host a JWT's uri claim names: Coinbase's form has no port
// ("GET api.coinbase.com/api/v3/brokerage/accounts", Advanced Trade "API
// Key Authentication"), so a base written with its scheme's default port
// (https://api.coinbase.com:443) signs without it; any other port stays.
func uriHost(u *url.URL) string {
	switch port := u.Port(); {
	case port == "",
		port == "443" && u.Scheme == "https",
		port == "80" && u.Scheme == "http":
		return u.Hostname()
	}
	return u.Host
}
