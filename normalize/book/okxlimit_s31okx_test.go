package book

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// vClock is a virtual clock: Sleep moves its time on at once.
type vClock struct {
	wsclient.Clock
	mu  sync.Mutex
	now time.Time
}

func newVClock() *vClock {
	return &vClock{Clock: wsclient.SystemClock(), now: time.Unix(1_700_000_000, 0)}
}

func (c *vClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *vClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.advance(max(d, 0))
	return nil
}

func (c *vClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// okxTimedVenue answers GET /api/v5/market/books with answer(n) for its
// n-th request, and records when (by the clock) each came.
type okxTimedVenue struct {
	clock  *vClock
	answer func(n int) (int, string)
	mu     sync.Mutex
	at     []time.Time
}

func (v *okxTimedVenue) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	v.mu.Lock()
	v.at = append(v.at, v.clock.Now())
	n := len(v.at)
	v.mu.Unlock()
	status, body := v.answer(n)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (v *okxTimedVenue) times() []time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]time.Time(nil), v.at...)
}

func newOKXTimed(t *testing.T, answer func(n int) (int, string)) (*OKXREST, *okxTimedVenue, *vClock) {
	t.Helper()
	clock := newVClock()
	v := &okxTimedVenue{clock: clock, answer: answer}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	return &OKXREST{BaseURL: srv.URL, Limiter: &OKXLimiter{Clock: clock}}, v, clock
}

var okxTooManyAnswer = `{"msg":"Too Many Requests","code":"50011"}`

// OKX API v5 "Get order book": "Rate Limit: 40 requests per 2 seconds",
// "Rate limit rule: IP". A session with many OKX books fetches them all
// at start (and all of a connection's after it was lost): 100 books must
// not send 100 requests at once. Before, nothing limited them.
func TestS31OKXRESTKeepsToTheLimit(t *testing.T) {
	rest, v, _ := newOKXTimed(t, func(int) (int, string) {
		return http.StatusOK, okxBooksJSON(7, `["100","1","0","1"]`, `["101","1","0","1"]`)
	})
	ctx := context.Background()
	var ev schema.CanonicalEvent
	for i := range 100 {
		require.NoError(t, rest.Fetch(ctx, fmt.Sprintf("S%d-USDT", i), &ev))
	}
	at := v.times()
	require.Len(t, at, 100)
	for i := range at {
		n := 0
		for j := range at {
			if !at[j].After(at[i]) && at[i].Sub(at[j]) < okxBooksPer {
				n++
			}
		}
		require.LessOrEqual(t, n, okxBooksRequests, "requests in the 2 s up to request %d", i)
	}
	require.Equal(t, 2*okxBooksPer, at[99].Sub(at[0]), "no slower than the limit: 40 at once, 40 two seconds later, 20 at 4 s")
}

// A 429 / 50011 answer ("Too Many Requests") pauses every fetch of the
// limiter for the window, and the book is told to wait as long
// (RetryAfter): before, the error had no RetryAfter and the next fetch,
// of this book or another, went at once.
func TestS31OKXRESTBacksOffOnTooMany(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
	}{{"HTTP 429", http.StatusTooManyRequests}, {"code 50011 in a 200", http.StatusOK}} {
		t.Run(tc.name, func(t *testing.T) {
			rest, v, _ := newOKXTimed(t, func(n int) (int, string) {
				if n == 1 {
					return tc.status, okxTooManyAnswer
				}
				return http.StatusOK, okxBooksJSON(7, `["100","1","0","1"]`, `["101","1","0","1"]`)
			})
			ctx := context.Background()
			var ev schema.CanonicalEvent
			err := rest.Fetch(ctx, "BTC-USDT", &ev)
			var fe *FetchError
			require.True(t, errors.As(err, &fe), "%v", err)
			require.GreaterOrEqual(t, fe.RetryAfter, okxBooksPer)
			require.NoError(t, rest.Fetch(ctx, "ETH-USDT", &ev))
			at := v.times()
			require.Len(t, at, 2)
			require.GreaterOrEqual(t, at[1].Sub(at[0]), okxBooksPer, "the next request waited out the window")
		})
	}
}

// The book waits out a 429 on its clock: diffs within the 2 s fetch
// nothing (it stays not live, the error counted), the first after it
// fetches and goes live.
func TestS31OKXBookWaitsOutTooMany(t *testing.T) {
	rest, v, clock := newOKXTimed(t, func(n int) (int, string) {
		if n == 1 {
			return http.StatusTooManyRequests, okxTooManyAnswer
		}
		return http.StatusOK, okxBooksJSON(105, `["100","5","0","1"]`, `["101","1","0","1"]`)
	})
	bk, _, _ := newRecBook(t, OKXFetch, "BTC-USDT", &Options{Fetcher: rest, Clock: clock, RetryInterval: 100 * time.Millisecond})
	ctx := context.Background()
	var fe *FetchError
	require.ErrorAs(t, bk.Apply(ctx, okxEvent(t, okxUpdate(100, 103, ``, ``))), &fe)
	for i := range 19 {
		clock.advance(100 * time.Millisecond)
		require.NoError(t, bk.Apply(ctx, okxEvent(t, okxUpdate(103+int64(i), uint64(104+i), ``, ``))))
		require.False(t, bk.Live())
	}
	require.Len(t, v.times(), 1, "no request within the 2 s")
	require.EqualValues(t, 1, bk.Stats().FetchErrors)
	clock.advance(100 * time.Millisecond)
	applyLive(t, bk, okxUpdate(122, 123, `["99","1","0","1"]`, ``))
	require.Len(t, v.times(), 2)
}

// A clock stepped back (NTP, a VM resumed) must not hold the books'
// fetches for the length of the step: the slots taken before it lie in
// the clock's future. Before, the next fetch after 40 was refused with a
// RetryAfter of the whole hour, and the book waited it.
func TestS31OKXLimiterClockSteppedBack(t *testing.T) {
	rest, v, clock := newOKXTimed(t, func(int) (int, string) {
		return http.StatusOK, okxBooksJSON(7, `["100","1","0","1"]`, `["101","1","0","1"]`)
	})
	ctx := context.Background()
	var ev schema.CanonicalEvent
	for range okxBooksRequests {
		require.NoError(t, rest.Fetch(ctx, "BTC-USDT", &ev))
	}
	clock.advance(-time.Hour)
	start := clock.Now()
	require.NoError(t, rest.Fetch(ctx, "BTC-USDT", &ev))
	at := v.times()
	require.LessOrEqual(t, at[len(at)-1].Sub(start), okxBooksPer)
}

// FuzzS31OKXCode: nothing an OKX refusal's body holds may panic okxCode.
func FuzzS31OKXCode(f *testing.F) {
	f.Add(okxTooManyAnswer)
	f.Add(`{"code":50011}`)
	f.Add(`{"code":"0","data":[]}`)
	f.Add(`<html>429 Too Many Requests</html>`)
	f.Fuzz(func(t *testing.T, body string) {
		fe := &FetchError{Status: http.StatusOK, Body: body}
		_ = okxTooManyRequests(fe)
		_ = okxCode(body)
	})
}
