package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// TestKrakenNonceConcurrent: callers of one key at once — the token
// request, the queries, another session — each get a nonce of their own,
// and each caller's nonces strictly increase, even when the clock stands
// still or steps back; another key has its own counter.
func TestKrakenNonceConcurrent(t *testing.T) {
	key := fmt.Sprintf("nonce-test-%d", time.Now().UnixNano())
	now := time.UnixMilli(1_700_000_000_000)
	const callers, each = 8, 500
	got := make([][]uint64, callers)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for i := range each {
				at := now
				if i%3 == 1 {
					at = now.Add(-time.Hour) // a step back
				}
				got[c] = append(got[c], krakenNonce(key, at))
			}
		})
	}
	wg.Wait()
	var all []uint64
	for c := range callers {
		require.True(t, slices.IsSorted(got[c]), "caller %d", c)
		for i := 1; i < len(got[c]); i++ {
			require.Less(t, got[c][i-1], got[c][i])
		}
		all = append(all, got[c]...)
	}
	slices.Sort(all)
	assert.Len(t, slices.Compact(all), callers*each, "no nonce twice")
	assert.GreaterOrEqual(t, all[0], uint64(now.UnixMilli()), "Unix ms")
	other := krakenNonce(key+"-other", now)
	assert.Equal(t, uint64(now.UnixMilli()), other, "another key's counter")
	later := now.Add(time.Hour)
	assert.Equal(t, uint64(later.UnixMilli()), krakenNonce(key, later), "the clock once it is ahead")
}

// TestKrakenRefusalRules: Kraken's error strings, classified by normalize,
// are taken as the reconciler needs: a rate limit (or HTTP 429) empties
// the budget and is retried; an invalid nonce and the service unavailable
// are retried (a new nonce each try); an unknown order is an answer; an
// invalid key fails at once.
func TestKrakenRefusalRules(t *testing.T) {
	rr := (&krakenQueries{}).rules()
	refusal := func(errs ...string) error {
		body := `{"error":["` + errs[0] + `"]}`
		_, err := normalize.ParseKrakenQueryOrders([]byte(body), "BTC-USD", nil)
		require.Error(t, err)
		return err
	}
	for _, c := range []struct {
		err                        error
		rate, retry, missing, fail bool
	}{
		{refusal("EAPI:Rate limit exceeded"), true, true, false, false},
		{refusal("EGeneral:Temporary lockout"), true, true, false, false},
		{&normalize.QueryError{Venue: schema.VenueKraken, Status: 429}, true, true, false, false},
		{refusal("EAPI:Invalid nonce"), false, true, false, false},
		{refusal("EService:Unavailable"), false, true, false, false},
		{&normalize.QueryError{Venue: schema.VenueKraken, Status: 502}, false, true, false, false},
		{refusal("EOrder:Unknown order"), false, false, true, false},
		{refusal("EAPI:Invalid key"), false, false, false, true},
		{errNoSuchOrder, false, false, true, false},
	} {
		assert.Equal(t, []bool{c.rate, c.retry, c.missing}, []bool{rr.rateLimited(c.err), rr.retryable(c.err), rr.notFound(c.err)}, "%v", c.err)
		if c.fail {
			var qerr *normalize.QueryError
			require.True(t, errors.As(c.err, &qerr))
			assert.Zero(t, qerr.Code)
		}
	}
	assert.Equal(t, "USDT", quoteAsset("BTC-USDT").String())
	assert.True(t, quoteAsset("BTC").IsZero())
}

// TestKrakenBackoff: a Kraken rate-limit refusal empties the budget, so
// that the retry waits for it to refill (one request at 60 a minute: a
// second) beyond the backoff; an invalid nonce waits the backoff only,
// and when every try is refused for it, five tries are made, the waits
// between them doubling, and the refusal is returned: no storm.
func TestKrakenBackoff(t *testing.T) {
	rateLimit := &normalize.QueryError{Venue: schema.VenueKraken, Code: normalize.KrakenCodeRateLimit, Msg: "EAPI:Rate limit exceeded"}
	nonce := &normalize.QueryError{Venue: schema.VenueKraken, Code: normalize.KrakenCodeInvalidNonce, Msg: "EAPI:Invalid nonce"}
	for _, c := range []struct {
		name   string
		errs   []error
		asked  int
		refill bool
		fail   bool
	}{
		{"rate limit", []error{rateLimit}, 2, true, false},
		{"invalid nonce", []error{nonce}, 2, false, false},
		{"invalid nonce always", []error{nonce, nonce, nonce, nonce, nonce, nonce, nonce}, 5, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(1700000000, 0)}
			s := &Session{spec: venues[schema.VenueKraken]}
			s.cfg.Client = wsclient.Options{Clock: clk, BackoffBase: time.Millisecond, BackoffCap: time.Second}
			b := &fakeBackend{rules_: krakenRefusals, errs: c.errs}
			r := newReconciler(s, b)
			key := orderKey{symbol: "BTC-USD", id: schema.MustID("OQCLML-BW3P3-BUCMWZ")}
			r.orders[key] = &tracked{status: schema.StatusNew}
			err := r.reconcile(context.Background(), 0, key, false)
			assert.Equal(t, c.asked, b.asked, "tries")
			if c.fail {
				require.ErrorIs(t, err, error(nonce))
				assert.Equal(t, []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 8 * time.Millisecond}, clk.slept,
					"the backoff between the five tries, nothing else")
				return
			}
			require.NoError(t, err)
			require.NotEmpty(t, clk.slept)
			assert.Equal(t, time.Millisecond, clk.slept[0], "the backoff")
			var waited time.Duration
			for _, d := range clk.slept[1:] {
				waited += d
			}
			if c.refill {
				assert.InDelta(t, time.Second.Seconds(), waited.Seconds(), 0.01, "the budget refilled")
			} else {
				assert.Zero(t, waited, "the budget kept")
			}
		})
	}
}

// TestResolveStreamedFirst: a Place of unknown outcome whose order the
// stream shows before the lookup by client order id answers (Kraken's
// snapshot of open orders on the new subscription, or a fill streamed
// since it) is the session's own from that report (its client order id
// names the placement): nothing it had filled is taken as before the
// session, so that the window's fills are delivered, even if the order
// ends on the stream before the lookup answers; the lookup keeps it so.
func TestResolveStreamedFirst(t *testing.T) {
	clk := &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(1700000000, 0)}
	s := &Session{spec: venues[schema.VenueKraken]}
	s.cfg.Client = wsclient.Options{Clock: clk}
	r := newReconciler(s, &fakeBackend{rules_: krakenRefusals})
	id := schema.MustID("c1") // the fake venue's order id is the client id
	r.unsure[orderKey{symbol: "BTC-USD", id: id}] = struct{}{}
	ev := &schema.CanonicalEvent{Venue: schema.VenueKraken, Symbol: "BTC-USD", Type: schema.EventExecReport}
	x := ev.UseExec()
	x.VenueOrderID, x.ClientOrderID, x.ExecType, x.Status = id, id, schema.ExecTrade, schema.StatusPartiallyFilled
	x.TradeID, x.LastFillQty, x.CumFillQty = schema.MustID("7"), schema.MustParseDecimal("1"), schema.MustParseDecimal("3")
	require.False(t, r.observe(ev))
	key := orderKey{symbol: "BTC-USD", id: id}
	require.NotNil(t, r.orders[key])
	assert.True(t, r.orders[key].floor.IsZero(), "not followed as placed elsewhere")
	assert.False(t, r.orders[key].streamed)
	require.NoError(t, r.resolve(context.Background(), 0))
	assert.Empty(t, r.unsure)
	assert.True(t, r.orders[key].floor.IsZero(), "the session's own: its fills are to deliver")
	assert.False(t, r.orders[key].streamed)
	assert.Equal(t, "1", r.orders[key].delivered.String(), "the streamed fill stays delivered")
}
