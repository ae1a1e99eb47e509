package book

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Everything the s30book change runs concurrently, at once, under the
// race detector: a Binance book whose fetch runs without its lock, diffs
// (some after a lost one) on one goroutine, lost connections on another
// (wsclient's event goroutine), the MaxSilence timer of the real clock
// firing all the time (MaxSilence far below the time between diffs on a
// loaded machine), readers, and Books.Add replacing another book of the venue
// (closing the old one) meanwhile; now and then the stream pauses until the book
// reports itself silent. A book that reports itself live is never
// crossed and its id is one the venue sent; every pooled event comes back
// (newRecBook); nothing runs after Close (goleak, TestMain).
func TestS30RVConcurrentFetchSilenceLossReaders(t *testing.T) {
	var venueSeq atomic.Uint64 // the last id the venue sent
	var stamp atomic.Int64     // receive times, in order across goroutines
	fetch := FetcherFunc(func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
		dst.Type = schema.EventBookSnapshot
		dst.Book.LastSeq = venueSeq.Load()
		dst.Book.Bids = append(dst.Book.Bids[:0], schema.Level{Price: schema.NewDecimal(90, 0), Qty: schema.NewDecimal(1, 0)})
		dst.Book.Asks = append(dst.Book.Asks[:0], schema.Level{Price: schema.NewDecimal(200, 0), Qty: schema.NewDecimal(1, 0)})
		return nil
	})
	opts := &Options{Fetcher: wholeBook{fetch}, MaxSilence: 50 * time.Microsecond, RetryInterval: time.Nanosecond}
	b, sink, events := newRecBook(t, Binance, "BTC-USDT", opts)
	o2 := *opts
	o2.Sink, o2.Events = sink, events
	books := NewBooks(nil, events, nil)
	books.Add(b)

	ctx := context.Background()
	const diffs = 3000
	done := make(chan struct{})
	lostCh := make(chan int64, diffs)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the reader of the connection
		defer wg.Done()
		defer close(done)
		for id := uint64(1); id <= diffs; id++ {
			venueSeq.Store(id)
			if id%300 == 150 { // quiet until the book says it is silent (or lost)
				if !assert.Eventually(t, func() bool { return !b.Live() }, time.Minute, time.Millisecond) {
					return // not FailNow: this is not the test's goroutine
				}
			}
			if id%97 == 0 {
				continue // lost: a gap
			}
			ev := binanceSpotDiff(id, id, lvl1(100-int64(id%7), int64(id)), lvl1(101+int64(id%5), 1))
			ev.IngestTS = stamp.Add(1)
			_ = b.Apply(ctx, ev)
			if id%50 == 0 {
				lostCh <- stamp.Add(1) // reported on wsclient's event goroutine, late or not
			}
			if id%300 == 0 { // and one the book sees before the next diff
				if !assert.Eventually(t, func() bool { return !b.Live() }, time.Minute, time.Millisecond) {
					return // not FailNow: this is not the test's goroutine
				}
			}
		}
	}()
	wg.Add(1)
	go func() { // wsclient's event goroutine: lost connections
		defer wg.Done()
		for {
			var at int64
			select {
			case <-done:
				return
			case at = <-lostCh:
			}
			lost := &schema.CanonicalEvent{Venue: schema.VenueBinance, Type: schema.EventConnState, IngestTS: at}
			lost.UseControl().State = schema.ConnReconnecting
			_ = books.Publish(ctx, cloneInto(events, lost))
		}
	}()
	wg.Add(1)
	go func() { // the host, replacing another symbol's book all the time
		defer wg.Done()
		var last *Book
		for {
			select {
			case <-done:
				last.Close()
				return
			default:
			}
			x, err := NewBook(Binance, "ETH-USDT", &o2)
			if err != nil {
				t.Error(err)
				return
			}
			books.Add(x) // closes the one before
			last = x
		}
	}()
	for range 2 { // readers
		wg.Add(1)
		go func() {
			defer wg.Done()
			var top schema.CanonicalEvent
			for {
				select {
				case <-done:
					return
				default:
				}
				for _, x := range []*Book{b} {
					if q, ok := x.BBO(); ok && q.BidPrice.Cmp(q.AskPrice) >= 0 {
						t.Errorf("a live book is crossed: %v", q)
						return
					}
					if x.Top(3, &top) && top.Book.LastSeq > venueSeq.Load() {
						t.Errorf("a live book at id %d the venue never sent", top.Book.LastSeq)
						return
					}
					_ = x.Stats()
				}
			}
		}()
	}
	wg.Wait()
	b.Close()
	st := b.Stats()
	require.NotZero(t, st.Fetches, "no fetch ran: the test exercised nothing")
	require.NotZero(t, st.Invalidations)
	require.NotZero(t, st.Silences)
}

// cloneInto copies ev into a pooled event, as a parser publishes it.
func cloneInto(events interface {
	Get(context.Context) (*schema.CanonicalEvent, error)
}, ev *schema.CanonicalEvent) *schema.CanonicalEvent {
	out, err := events.Get(context.Background())
	if err != nil {
		panic(err)
	}
	out.Venue, out.Type, out.IngestTS, out.Control = ev.Venue, ev.Type, ev.IngestTS, ev.Control
	return out
}
