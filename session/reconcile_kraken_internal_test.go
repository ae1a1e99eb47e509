package session

import (
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
