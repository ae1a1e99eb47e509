package book

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// The wait after a failed snapshot fetch, and after a failed
// resubscription, is RetryInterval on the book's clock, the one its resync
// backoff reads — not the wall clock, which a test (or a host replaying at
// its own pace) cannot move: an hour on the book's clock allows the next
// try at once, and less than RetryInterval never does.
func TestRetryWaitsOnTheBooksClock(t *testing.T) {
	t.Run("fetch", func(t *testing.T) {
		clock, fetches, diff := failingFetchPipe(t, time.Hour)
		diff(1000)
		require.Equal(t, 1, *fetches)
		*clock = clock.Add(time.Hour - time.Nanosecond)
		diff(1002)
		require.Equal(t, 1, *fetches, "RetryInterval has not passed on the book's clock")
		*clock = clock.Add(time.Nanosecond)
		diff(1004)
		require.Equal(t, 2, *fetches, "RetryInterval has passed on the book's clock")
	})
	t.Run("resubscribe", func(t *testing.T) {
		resubs := 0
		fail := func(context.Context, schema.Venue, string) error { resubs++; return errors.New("not connected") }
		x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", &Options{Resubscribe: fail, RetryInterval: time.Hour})
		clock := time.Unix(1_700_000_000, 0)
		x.b.now = func() time.Time { return clock }
		bids, asks := [][2]string{{"100", "1"}}, [][2]string{{"101", "1"}}
		seq := int64(1000)
		bad := func() {
			seq++
			x.feed(t, okxBook("snapshot", "BTC-USDT", bids, asks, okxSum(bids, asks)+1, -1, seq))
		}
		// A diff while the book waits for its snapshot asks again once the
		// failed call's wait has passed.
		diff := func() {
			seq++
			x.feed(t, okxBook("update", "BTC-USDT", [][2]string{{"100", "2"}}, nil, 0, seq-1, seq))
		}
		bad()
		require.Equal(t, 1, resubs)
		clock = clock.Add(time.Hour - time.Nanosecond)
		diff()
		require.Equal(t, 1, resubs, "RetryInterval has not passed on the book's clock")
		clock = clock.Add(time.Nanosecond)
		diff()
		require.Equal(t, 2, resubs, "RetryInterval has passed on the book's clock")
	})
}

// failingFetchPipe is a Binance book whose every fetch fails, waiting
// interval between rounds, on a clock the test sets (*clock); *fetches
// counts the fetches, and diff feeds a diff of ids first and first+1.
func failingFetchPipe(t *testing.T, interval time.Duration) (clock *time.Time, fetches *int, diff func(first int64)) {
	fetches = new(int)
	fail := FetcherFunc(func(context.Context, string, *schema.CanonicalEvent) error {
		*fetches++
		return errors.New("venue down")
	})
	x := newPipe(t, normalize.NewBinance, Binance, "BTC-USDT", &Options{Fetcher: fail, RetryInterval: interval})
	at := time.Unix(1_700_000_000, 0)
	clock = &at
	x.b.now = func() time.Time { return *clock }
	diff = func(first int64) {
		x.feed(t, binanceDiff("BTCUSDT", first, first+1, -1, [][2]string{{"100.00", "2.0"}}, nil))
	}
	return clock, fetches, diff
}
