package meltica_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/dispatch/merge"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// normalize.Symbols: "safe for concurrent use; one registry may serve
// several parsers of the same venue ... Lookups take no lock ...; loading
// takes a lock and copies the tables". Four parsers sharing one registry
// read trades of symbols none has seen before (each interned on first
// sight) while a fifth goroutine loads instruments again and again. Under
// -race: no race; every trade becomes an event of the right canonical
// symbol, the same interned string for every parser.
func TestS28ctSymbolsSharedByParsers(t *testing.T) {
	syms := normalize.NewBinanceSymbols()
	require.NoError(t, syms.Load([]normalize.Instrument{{Symbol: "BTCUSDT", Base: "BTC", Quote: "USDT"}}))
	const parsers, symbols = 4, 200
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			sym := fmt.Sprintf("LD%dUSDT", i%50)
			if err := syms.Load([]normalize.Instrument{{Symbol: sym, Base: fmt.Sprintf("LD%d", i%50), Quote: "USDT"}}); err != nil {
				t.Errorf("Load: %v", err)
				return
			}
		}
	})
	got := make([]map[string]string, parsers)
	var readers sync.WaitGroup
	for g := 0; g < parsers; g++ {
		readers.Go(func() {
			pools := schema.NewPools(nil)
			seen := map[string]string{}
			sink := normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
				if ev.Type == schema.EventTrade {
					seen[fmt.Sprint(ev.SeqProvider)] = ev.Symbol
				}
				pools.Events.Put(ev)
				return nil
			})
			p := normalize.NewBinance(pools.Events, sink, &normalize.Options{Symbols: syms})
			for i := 0; i < symbols; i++ {
				// every parser sees the symbols in another order
				n := (i*7 + g*31) % symbols
				msg := fmt.Sprintf(`{"e":"trade","E":1764559815123,"s":"S%dUSDT","t":%d,"p":"1.5","q":"2","T":1764559815123,"m":true,"M":true}`, n, n+1)
				if err := p.HandleBytes(context.Background(), []byte(msg), 1); err != nil {
					t.Errorf("parser %d: %v", g, err)
				}
			}
			got[g] = seen
		})
	}
	readers.Wait()
	close(stop)
	wg.Wait()
	for g := 0; g < parsers; g++ {
		require.Len(t, got[g], symbols, "parser %d: every trade", g)
		for i := 0; i < symbols; i++ {
			assert.Equal(t, fmt.Sprintf("S%d-USDT", i), got[g][fmt.Sprint(i+1)], "parser %d, trade %d", g, i+1)
		}
	}
}

// recorder.Recorder: "safe for concurrent use: several clients may share
// one". Four clients record 500 frames each (and the messages they send)
// into one rotating recording while a fifth reads Stats, Err and Files;
// then Close. Every frame Record accepted is in the files exactly once,
// each client's in its order; every frame it refused is counted dropped.
func TestS28ctRecorderSharedByClients(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueBinance, MaxFileBytes: 64 << 10, Queue: 64, FlushInterval: time.Millisecond})
	require.NoError(t, err)
	const clients, frames = 4, 500
	var accepted, refused [clients]atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Go(func() {
			f := &schema.WsFrame{Provider: schema.VenueBinance, ConnID: uint64(c + 1)}
			for i := 1; i <= frames; i++ {
				f.Seq, f.ReceivedAt = uint64(i), int64(i)
				f.Data = fmt.Appendf(f.Data[:0], `{"client":%d,"i":%d}`, c, i)
				if rec.Record(f) {
					accepted[c].Add(1)
				} else {
					refused[c].Add(1)
				}
				if i%100 == 0 {
					if !rec.RecordSent(uint64(c+1), int64(i), []byte(`{"method":"SUBSCRIBE"}`)) {
						refused[c].Add(1)
					}
				}
			}
		})
	}
	stop := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = rec.Stats()
			assert.NoError(t, rec.Err())
			_ = rec.Files()
		}
	})
	wg.Wait()
	close(stop)
	watcher.Wait()
	require.NoError(t, rec.Close())
	st := rec.Stats()
	var acc, ref int64
	for c := 0; c < clients; c++ {
		acc += accepted[c].Load()
		ref += refused[c].Load()
	}
	assert.Equal(t, uint64(ref), st.Dropped, "every refused frame counted")
	assert.Zero(t, st.WriteErrors)

	r, err := recorder.Open(rec.Files()...)
	require.NoError(t, err)
	defer r.Close()
	next := map[int]int{}
	var lines int64
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if l.Out {
			continue
		}
		var c, i int
		_, err = fmt.Sscanf(l.Text, `{"client":%d,"i":%d}`, &c, &i)
		require.NoError(t, err, l.Text)
		assert.Greater(t, i, next[c], "client %d's frames in order, each once", c)
		assert.Equal(t, uint64(c+1), l.Conn)
		assert.Equal(t, uint64(i), l.Seq)
		next[c] = i
		lines++
	}
	assert.Equal(t, acc, lines, "every accepted frame recorded once (%d files)", len(rec.Files()))
}

// merge.Merger: "safe for concurrent use". Three venues' quotes added
// from three goroutines (their subscriptions' handlers) while a fourth
// ticks and reads Stats. Under -race: no race, and the last consolidated
// view is the best bid and best ask of the venues' last quotes.
func TestS28ctMergerSharedByHandlers(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{Merged: pools.Merged})
	var mu sync.Mutex
	var last *schema.MergedEvent
	_, err := d.SubscribeMerged(dispatch.MergedFilter{}, &dispatch.MergedOptions{Handler: func(m *schema.MergedEvent) {
		mu.Lock()
		last = m
		mu.Unlock()
	}})
	require.NoError(t, err)
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueKraken}
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: venues, Mode: merge.Continuous, Sink: d, Merged: pools.Merged, Staleness: time.Hour})
	require.NoError(t, err)
	const quotes = 500
	var wg sync.WaitGroup
	for vi, v := range venues {
		wg.Go(func() {
			ev := new(schema.CanonicalEvent)
			for i := 1; i <= quotes; i++ {
				*ev = schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventBBO, SeqProvider: uint64(i), IngestTS: time.Now().UnixNano()}
				// venue vi's final quote: bid 100+vi, ask 200-vi
				ev.BBO.BidPrice = schema.MustParseDecimal(fmt.Sprintf("%d", 100+vi-(quotes-i)%3))
				ev.BBO.AskPrice = schema.MustParseDecimal(fmt.Sprintf("%d", 200-vi+(quotes-i)%3))
				ev.BBO.BidQty, ev.BBO.AskQty = schema.MustParseDecimal("1"), schema.MustParseDecimal("1")
				if err := m.Add(ctx, ev); err != nil {
					t.Errorf("Add: %v", err)
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			assert.NoError(t, m.Tick(ctx))
			_ = m.Stats()
		}
	})
	wg.Wait()
	close(stop)
	ticker.Wait()
	require.NoError(t, d.Close(ctx))
	mu.Lock()
	defer mu.Unlock()
	require.NotNil(t, last)
	assert.Equal(t, "102", last.BestBid.String(), "best bid: Kraken's last")
	assert.Equal(t, "198", last.BestAsk.String(), "best ask: Kraken's last")
	require.NoError(t, pools.Shutdown(ctx))
}
