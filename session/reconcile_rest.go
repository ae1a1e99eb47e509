package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// maxQueryAnswer bounds a REST query's answer: a page of 100 fills or
// orders is far below it.
const maxQueryAnswer = 4 << 20

// restGet makes a signed GET of Endpoints.REST + path + "?" + query (path
// alone when query is "") with the headers sign makes, and returns the
// answer's body and HTTP status. It is bounded by Config.RESTTimeout.
func (s *Session) restGet(ctx context.Context, path, query string, sign func(requestPath string) (map[string]string, error)) ([]byte, int, error) {
	requestPath := path
	if query != "" {
		requestPath += "?" + query
	}
	headers, err := sign(requestPath)
	if err != nil {
		return nil, 0, err
	}
	return s.restDo(ctx, http.MethodGet, requestPath, nil, headers)
}

// restDo makes a request of Endpoints.REST + requestPath with payload
// (nil for none) and headers, and returns the answer's body (at most
// maxQueryAnswer bytes) and HTTP status. It is bounded by
// Config.RESTTimeout.
func (s *Session) restDo(ctx context.Context, method, requestPath string, payload io.Reader, headers map[string]string) ([]byte, int, error) {
	ctx, end := restDeadline(ctx, s.cfg.Client.Clock, s.cfg.RESTTimeout)
	defer func() { _ = end(nil) }()
	req, err := http.NewRequestWithContext(ctx, method, s.cfg.Endpoints.REST+requestPath, payload)
	if err != nil {
		return nil, 0, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, 0, end(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxQueryAnswer))
	return body, resp.StatusCode, end(err)
}

// restAnswer completes a decoder's error with the HTTP status: a refusal
// carries it, and any other answer under a status other than 200 — not
// the venue's JSON (a proxy's 429 or 502 page), or the venue's envelope
// reading as a success (a gateway's 503 with code 0 and an empty list,
// which is not "no fills") — is a refusal of that status.
func restAnswer(venue schema.Venue, status int, err error) error {
	var qerr *normalize.QueryError
	switch {
	case errors.As(err, &qerr):
		qerr.Status = status
	case status != http.StatusOK:
		return &normalize.QueryError{Venue: venue, Status: status, Msg: http.StatusText(status)}
	}
	return err
}

// okxQueries asks OKX v5's REST API (OKX v5 API, "Trade → Get order
// details", "Get transaction details (last 3 days)", "Get order List"),
// signed with the key (OK-ACCESS-* headers) and the venue's time.
type okxQueries struct {
	s   *Session
	key *OKXKey
}

// okxRefusals: OKX v5 "Error Codes" — 50011 rate limit (HTTP 429), 50061
// sub-account rate limit; 50001 service unavailable, 50004 endpoint
// timeout, 50013 busy, 50026 system error, 50102 timestamp expired (signed
// anew each try, the clock offset measured again first); 51603 order does not exist.
var okxRefusals = &refusalRules{
	rateStatus: []int{http.StatusTooManyRequests},
	rateCodes:  []int64{50011, 50061},
	retryCodes: []int64{50001, 50004, 50013, 50026, 50102},
	missing:    []int64{51603},
	clockCodes: []int64{50102},
	duplicate:  []int64{51016}, // "Duplicated clOrdId" (OKX v5 "Error Code")
}

func (*okxQueries) rules() *refusalRules { return okxRefusals }

func (*okxQueries) budget() (perMinute, order, fills, open int) {
	return DefaultReconcileOKX, 1, 1, 1
}

func (q *okxQueries) get(ctx context.Context, path, query string) ([]byte, int, error) {
	s := q.s
	return s.restGet(ctx, path, query, func(requestPath string) (map[string]string, error) {
		return normalize.SignOKXREST(q.key.APIKey, q.key.Passphrase, q.key.Secret, s.clock.venueNow(), http.MethodGet, requestPath, "")
	})
}

func (q *okxQueries) order(ctx context.Context, _ uint64, key orderKey, byClient bool) ([]normalize.QueryOrder, error) {
	inst, err := q.s.syms.VenueSymbol(key.symbol)
	if err != nil {
		return nil, err
	}
	param := "&ordId="
	if byClient {
		param = "&clOrdId="
	}
	body, status, err := q.get(ctx, normalize.OKXPathOrder, "instId="+inst+param+key.id.String())
	if err != nil {
		return nil, err
	}
	os, err := normalize.ParseOKXOrders(body, q.s.syms, nil)
	return os, restAnswer(schema.VenueOKX, status, err)
}

// fills reads a page of the order's fills, newest first; the next page is
// after the last one's billId, while pages are full.
func (q *okxQueries) fills(ctx context.Context, _ uint64, key orderKey, cursor string, dst []normalize.QueryFill) ([]normalize.QueryFill, string, error) {
	inst, err := q.s.syms.VenueSymbol(key.symbol)
	if err != nil {
		return dst, "", err
	}
	query := "instId=" + inst + "&ordId=" + key.id.String() + "&limit=" + strconv.Itoa(normalize.OKXQueryLimit)
	if cursor != "" {
		query += "&after=" + cursor
	}
	body, status, err := q.get(ctx, normalize.OKXPathFills, query)
	if err != nil {
		return dst, "", err
	}
	n := len(dst)
	dst, err = normalize.ParseOKXFills(body, q.s.syms, dst)
	if err = restAnswer(schema.VenueOKX, status, err); err != nil || len(dst)-n < normalize.OKXQueryLimit {
		return dst, "", err
	}
	next := dst[len(dst)-1].PageKey
	if next.IsZero() {
		return dst, "", fmt.Errorf("%w: a full page of fills without a billId to go on from", ErrBadAnswer)
	}
	return dst, next.String(), nil
}

// open reads a page of the account's open spot orders; the next page is
// after the last one's ordId, while pages are full.
func (q *okxQueries) open(ctx context.Context, _ uint64, cursor string, dst []normalize.QueryOrder) ([]normalize.QueryOrder, string, error) {
	query := "instType=SPOT&limit=" + strconv.Itoa(normalize.OKXQueryLimit)
	if cursor != "" {
		query += "&after=" + cursor
	}
	body, status, err := q.get(ctx, normalize.OKXPathOrdersPending, query)
	if err != nil {
		return dst, "", err
	}
	n := len(dst)
	dst, err = normalize.ParseOKXOrders(body, q.s.syms, dst)
	if err = restAnswer(schema.VenueOKX, status, err); err != nil || len(dst)-n < normalize.OKXQueryLimit {
		return dst, "", err
	}
	return dst, dst[len(dst)-1].VenueOrderID.String(), nil
}

// bybitQueries asks Bybit v5's REST API (Bybit v5, "Trade → Get Open &
// Closed Orders", "Get Order History", "Position → Get Trade History"),
// category spot, signed with the key (X-BAPI-* headers), the venue's time
// and Config.RecvWindow.
type bybitQueries struct {
	s     *Session
	creds *normalize.Credentials
}

// bybitRefusals: Bybit v5 "Error Codes" — 10006 too many visits, 10018
// IP rate limit, HTTP 403 ("access too frequent") and 429; 10000 server
// timeout, 10016 server error, 10002 timestamp outside recv_window (signed
// anew each try, the clock offset measured again first); 110001 order does not exist.
var bybitRefusals = &refusalRules{
	rateStatus: []int{http.StatusTooManyRequests, http.StatusForbidden},
	rateCodes:  []int64{10006, 10018},
	retryCodes: []int64{10000, 10002, 10016},
	missing:    []int64{110001},
	clockCodes: []int64{10002},
	duplicate:  []int64{110072, 170141}, // "OrderLinkedID is duplicate", spot's "Duplicate clientOrderId" (Bybit v5 "Error Codes")
}

func (*bybitQueries) rules() *refusalRules { return bybitRefusals }

// budget: an order lookup may take two requests (realtime, then history).
func (*bybitQueries) budget() (perMinute, order, fills, open int) {
	return DefaultReconcileBybit, 2, 1, 1
}

func (q *bybitQueries) get(ctx context.Context, path, query string) ([]byte, int, error) {
	s := q.s
	return s.restGet(ctx, path, query, func(string) (map[string]string, error) {
		return normalize.SignBybitREST(q.creds, s.clock.venueNow(), s.cfg.RecvWindow, query)
	})
}

// orders reads one page of orders from path.
func (q *bybitQueries) orders(ctx context.Context, path, query string, dst []normalize.QueryOrder) ([]normalize.QueryOrder, string, error) {
	body, status, err := q.get(ctx, path, query)
	if err != nil {
		return dst, "", err
	}
	dst, next, err := normalize.ParseBybitOrders(body, q.s.syms, dst)
	return dst, next, restAnswer(schema.VenueBybit, status, err)
}

// order looks the order up in /order/realtime (open orders and the latest
// 500 ended), then in /order/history; in neither, it does not exist.
func (q *bybitQueries) order(ctx context.Context, _ uint64, key orderKey, byClient bool) ([]normalize.QueryOrder, error) {
	sym, err := q.s.syms.VenueSymbol(key.symbol)
	if err != nil {
		return nil, err
	}
	param := "orderId"
	if byClient {
		param = "orderLinkId"
	}
	query := normalize.BybitQuery("spot", "symbol", sym, param, key.id.String())
	for _, path := range [...]string{normalize.BybitPathOrderRealtime, normalize.BybitPathOrderHistory} {
		os, _, err := q.orders(ctx, path, query, nil)
		if err != nil || len(os) > 0 {
			return os, err
		}
	}
	return nil, errNoSuchOrder
}

func (q *bybitQueries) fills(ctx context.Context, _ uint64, key orderKey, cursor string, dst []normalize.QueryFill) ([]normalize.QueryFill, string, error) {
	sym, err := q.s.syms.VenueSymbol(key.symbol)
	if err != nil {
		return dst, "", err
	}
	query := normalize.BybitQuery("spot", "symbol", sym, "orderId", key.id.String(),
		"limit", strconv.Itoa(normalize.BybitExecutionsLimit), "cursor", cursor)
	body, status, err := q.get(ctx, normalize.BybitPathExecutions, query)
	if err != nil {
		return dst, "", err
	}
	dst, next, err := normalize.ParseBybitExecutions(body, q.s.syms, dst)
	return dst, next, restAnswer(schema.VenueBybit, status, err)
}

func (q *bybitQueries) open(ctx context.Context, _ uint64, cursor string, dst []normalize.QueryOrder) ([]normalize.QueryOrder, string, error) {
	return q.orders(ctx, normalize.BybitPathOrderRealtime,
		normalize.BybitQuery("spot", "openOnly", "0", "limit", strconv.Itoa(normalize.BybitOrdersLimit), "cursor", cursor), dst)
}

// okxReconciler and bybitReconciler make the private connection's
// reconciler (privateSpec.queries).
func okxReconciler(s *Session, key Key) queryBackend { return &okxQueries{s: s, key: key.(*OKXKey)} }

func bybitReconciler(s *Session, key Key) queryBackend {
	k := key.(*BybitKey)
	return &bybitQueries{s: s, creds: normalize.NewCredentials(k.APIKey, normalize.NewHMACSigner(k.Secret))}
}
