package book

import (
	"net/http"
	"sync"
	"time"

	"github.com/goccy/go-json/jsontext"

	"github.com/meltica/meltica/internal/safejson"
	"github.com/meltica/meltica/wsclient"
)

// OKX's limit of GET /api/v5/market/books (OKX API v5 "Get order book":
// "Rate Limit: 40 requests per 2 seconds", "Rate limit rule: IP"), and
// its answer past it: HTTP 429, code 50011 "Too Many Requests" (v5 "Error
// Code", REST "Public" errors).
const (
	okxBooksRequests = 40
	okxBooksPer      = 2 * time.Second
	okxTooMany       = "50011"
)

// OKXLimiter keeps the requests of [OKXREST] fetches inside OKX's limit
// of GET /api/v5/market/books: at most Requests in any Per (a sliding
// window, by the Clock), and none for Per after the venue answered 429 or
// code 50011, so that books resynchronising together — a session's books
// at start, every book of a connection after it was lost — neither
// exceed the limit nor hammer a venue that said so. The limit is OKX's
// per IP: give every OKXREST of a process one OKXLimiter (a session
// shares one between its books). Safe for concurrent use; the zero
// value is ready (OKX's limit, the fetch's clock).
type OKXLimiter struct {
	Requests int           // defaults to 40
	Per      time.Duration // defaults to 2 s
	// Clock times the window and the pause. Defaults to the clock of
	// the fetch asking (its OKXREST's Clock, else the Options.Clock of
	// the book fetching, else wsclient.SystemClock()): give the books
	// sharing a Limiter one clock, or set it.
	Clock wsclient.Clock

	mu sync.Mutex
	// slots: when the requests reserved go (or went), in time order,
	// those whose window has not passed; a fetch that ends without
	// sending gives its own back (release). At most Requests in any Per,
	// reserved up to the longest wait allowed ahead: a bounded number.
	slots []time.Time
	until time.Time     // no request before (a 429 / 50011)
	most  time.Duration // the longest wait a reservation allowed: OKXRESTs sharing the limiter may differ
}

// limits returns the limiter's settings, its clock defaulting to the
// fetch's (fetch).
func (l *OKXLimiter) limits(fetch wsclient.Clock) (int, time.Duration, wsclient.Clock) {
	n, per, c := l.Requests, l.Per, l.Clock
	if c == nil {
		c = fetch
	}
	if n <= 0 {
		n = okxBooksRequests
	}
	if per <= 0 {
		per = okxBooksPer
	}
	if c == nil {
		c = wsclient.SystemClock()
	}
	return n, per, c
}

// reserve takes the next free slot and returns how long to wait for it
// and its time (release's token), unless the wait is longer than most:
// then it takes none and reports false with the wait.
func (l *OKXLimiter) reserve(fetch wsclient.Clock, most time.Duration) (time.Duration, time.Time, bool) {
	n, per, c := l.limits(fetch)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := c.Now()
	l.most = max(l.most, most)
	if len(l.slots) > 0 && l.slots[len(l.slots)-1].After(now.Add(l.most+per)) || l.until.After(now.Add(per)) {
		// Further ahead than any wait gives (the longest any sharer
		// allowed, not this caller's): the clock stepped back. The
		// limit counts from now; the step must not hold the fetches
		// for its length.
		l.slots, l.until = l.slots[:0], time.Time{}
	}
	gone := 0
	for gone < len(l.slots) && !l.slots[gone].Add(per).After(now) {
		gone++ // its window has passed: it limits nothing any more
	}
	l.slots = append(l.slots[:0], l.slots[gone:]...)
	at := now
	if l.until.After(at) {
		at = l.until
	}
	if k := len(l.slots); k > 0 {
		if k >= n {
			at = latest(at, l.slots[k-n].Add(per))
		}
		at = latest(at, l.slots[k-1]) // in time order (after a slot given back, the latest may be later)
	}
	wait := at.Sub(now)
	if wait > most {
		return wait, time.Time{}, false
	}
	l.slots = append(l.slots, at)
	return wait, at, true
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// release gives back the slot reserved at at by a fetch that sent
// nothing (its ctx ended while it waited, or a 429 / 50011 came
// meanwhile): a slot nobody used must not hold the others back.
func (l *OKXLimiter) release(at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.slots) - 1; i >= 0; i-- {
		if l.slots[i].Equal(at) {
			l.slots = append(l.slots[:i], l.slots[i+1:]...)
			return
		}
	}
}

// refused records that the venue answered 429 / 50011: no request for
// Per from now. It returns Per, the wait to tell the book.
func (l *OKXLimiter) refused(fetch wsclient.Clock) time.Duration {
	_, per, c := l.limits(fetch)
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := c.Now().Add(per); t.After(l.until) {
		l.until = t
	}
	return per
}

// paused returns how long the pause after a 429 / 50011 lasts from now, 0
// when none does.
func (l *OKXLimiter) paused(fetch wsclient.Clock) time.Duration {
	_, _, c := l.limits(fetch)
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(l.until.Sub(c.Now()), 0)
}

// okxTooManyRequests reports whether a refused fetch is OKX's "too many
// requests": HTTP 429, or code 50011 in the answer.
func okxTooManyRequests(fe *FetchError) bool {
	return fe.Status == http.StatusTooManyRequests || okxCode(fe.Body) == okxTooMany
}

// okxCode returns the "code" of an OKX answer, "" when it has none.
func okxCode(body string) string {
	var a struct {
		Code jsontext.Value `json:"code"`
	}
	if safejson.Unmarshal([]byte(body), &a) != nil { // a decoder panic too
		return ""
	}
	return string(unquote(a.Code))
}
