package normalize

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// boundedParser returns a parser of venue that follows at most limit
// streams a map, and a count of the events its sink got.
func boundedParser(t *testing.T, venue schema.Venue, limit int) (*Parser, *int) {
	t.Helper()
	events := pool.New("bounds", 16, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	n := new(int)
	p := newVenueParser(venue, events, SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		*n++
		events.Put(ev)
		return nil
	})).(*Parser)
	p.streams = limit
	return p, n
}

// TestS32PerStreamStateIsBounded: a feed that sends ever new symbol names
// grows no per-stream map past its bound; a fresh quote or trade of a
// stream past it is delivered (uncompared) and counted, a book message
// refused with ErrTooManyStreams; streams followed before keep their
// repeat checks.
func TestS32PerStreamStateIsBounded(t *testing.T) {
	const limit, names = 4, 12
	ctx := context.Background()
	t.Run("binance quotes", func(t *testing.T) {
		p, got := boundedParser(t, schema.VenueBinance, limit)
		msg := func(i, u int) []byte {
			return fmt.Appendf(nil, `{"u":%d,"s":"X%dUSDT","b":"1.0","B":"2.0","a":"1.1","A":"3.0"}`, u, i)
		}
		for i := range names {
			require.NoError(t, p.HandleBytes(ctx, msg(i, 10), 1))
		}
		assert.Equal(t, names, *got, "a fresh quote of every stream is delivered")
		assert.LessOrEqual(t, len(p.quotes), limit)
		assert.Equal(t, uint64(names-limit), p.Stats().Untracked)
		require.NoError(t, p.HandleBytes(ctx, msg(0, 10), 2))
		assert.Equal(t, uint64(1), p.Stats().Repeats, "a followed stream keeps its repeat check")
		require.NoError(t, p.HandleBytes(ctx, msg(names-1, 11), 2))
		assert.Equal(t, names+1, *got)
	})
	t.Run("binance trades", func(t *testing.T) {
		p, got := boundedParser(t, schema.VenueBinance, limit)
		msg := func(i, id int) []byte {
			return fmt.Appendf(nil, `{"e":"trade","E":5,"s":"X%dUSDT","t":%d,"p":"1.0","q":"2.0","T":5,"m":true,"M":true}`, i, id)
		}
		for i := range names {
			require.NoError(t, p.HandleBytes(ctx, msg(i, 7), 1))
		}
		assert.Equal(t, names, *got)
		assert.LessOrEqual(t, len(p.trades), limit)
		assert.Equal(t, uint64(names-limit), p.Stats().Untracked)
		require.NoError(t, p.HandleBytes(ctx, msg(0, 7), 2))
		assert.Equal(t, uint64(1), p.Stats().Repeats)
	})
	t.Run("binance books", func(t *testing.T) {
		p, got := boundedParser(t, schema.VenueBinance, limit)
		for i := range names {
			err := p.HandleBytes(ctx, fmt.Appendf(nil, `{"e":"depthUpdate","E":5,"s":"X%dUSDT","U":1,"u":2,"b":[["1.0","1.0"]],"a":[]}`, i), 1)
			if i < limit {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrTooManyStreams)
			}
		}
		assert.Equal(t, limit, *got)
		assert.LessOrEqual(t, len(p.books), limit)
		st := p.Stats()
		assert.Equal(t, uint64(names-limit), st.Untracked)
		assert.Equal(t, uint64(names-limit), st.Errors)
	})
	t.Run("bybit ticker bases", func(t *testing.T) {
		p, got := boundedParser(t, schema.VenueBybit, limit)
		for i := range names {
			require.NoError(t, p.HandleBytes(ctx, fmt.Appendf(nil, `{"topic":"tickers.X%dUSDT","type":"snapshot","data":{"symbol":"X%dUSDT","lastPrice":"61874.00","highPrice24h":"62752.90","lowPrice24h":"61000.10","prevPrice24h":"62484.60","turnover24h":"6073739017.8331","volume24h":"98430.1050","bid1Price":"61873.90","bid1Size":"3.783","ask1Price":"61874.00","ask1Size":"16.278"},"cs":1,"ts":1}`, i, i), 1))
		}
		assert.Equal(t, names, *got)
		assert.LessOrEqual(t, len(p.tickers), limit)
		assert.LessOrEqual(t, len(p.quotes), limit)
		err := p.HandleBytes(ctx, fmt.Appendf(nil, `{"topic":"tickers.X%dUSDT","type":"delta","data":{"symbol":"X%dUSDT","lastPrice":"2"},"cs":2,"ts":2}`, names-1, names-1), 2)
		require.ErrorIs(t, err, ErrNoSnapshot, "a delta past the bound has no base")
	})
	t.Run("kraken depths", func(t *testing.T) {
		p, _ := boundedParser(t, schema.VenueKraken, limit)
		for i := range names {
			_ = p.HandleBytes(ctx, fmt.Appendf(nil, `{"method":"subscribe","result":{"channel":"book","depth":25,"snapshot":true,"symbol":"X%d/USD"},"success":true,"time_in":"2023-09-25T09:04:31.742599Z","time_out":"2023-09-25T09:04:31.742648Z"}`, i), 1)
		}
		st := p.state.(*krState)
		assert.LessOrEqual(t, len(st.depths), limit)
		assert.Equal(t, uint64(names-limit), p.Stats().Untracked)
	})
	t.Run("stale marks", func(t *testing.T) {
		events := pool.New("bounds-stale", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
		var held *schema.CanonicalEvent
		p := NewBinance(events, SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			held = ev // keeps the pool's only event: every later quote is dropped
			return nil
		}), nil)
		p.streams = limit
		for i := range names + 1 {
			_ = p.HandleBytes(ctx, fmt.Appendf(nil, `{"u":10,"s":"X%dUSDT","b":"1.0","B":"2.0","a":"1.1","A":"3.0"}`, i), 1)
		}
		require.NotNil(t, held)
		assert.LessOrEqual(t, len(p.stale), limit)
		events.Put(held)
	})
}

// TestS32BoundedStreamsAllocateNothing: once the maps are full, a quote of
// a stream past the bound and one of a followed stream cost no allocation.
func TestS32BoundedStreamsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are asserted without the race detector")
	}
	p, _ := boundedParser(t, schema.VenueBinance, 2)
	ctx := context.Background()
	for i := range 4 {
		require.NoError(t, p.HandleBytes(ctx, fmt.Appendf(nil, `{"u":10,"s":"X%dUSDT","b":"1.0","B":"2.0","a":"1.1","A":"3.0"}`, i), 1))
	}
	for _, sym := range []string{"X0USDT", "X3USDT"} { // followed, past the bound
		msgs := make([][]byte, 200)
		for i := range msgs {
			msgs[i] = fmt.Appendf(nil, `{"u":%d,"s":"%s","b":"1.0","B":"2.0","a":"1.1","A":"3.0"}`, 11+i, sym)
		}
		i := 0
		allocs := testing.AllocsPerRun(100, func() {
			_ = p.HandleBytes(ctx, msgs[i], int64(i+2))
			i++
		})
		assert.Zero(t, allocs, sym)
	}
}
