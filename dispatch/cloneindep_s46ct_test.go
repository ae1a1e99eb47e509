package dispatch_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

var (
	s46ctDecimal = reflect.TypeFor[schema.Decimal]()
	s46ctID      = reflect.TypeFor[schema.ID]()
	s46ctHeader  = reflect.TypeFor[pool.Header]()
)

// s46ctMutate writes every exported field reachable from v in place — a
// slice's elements where they are, then one more appended (an append
// into capacity another clone's memory follows would write over it), a
// pointer's target where it is — as a subscriber that keeps and edits its
// event may.
func s46ctMutate(v reflect.Value) {
	switch v.Type() {
	case s46ctDecimal:
		v.Set(reflect.ValueOf(schema.MustParseDecimal("-9.99")))
		return
	case s46ctID:
		v.Set(reflect.ValueOf(schema.MustID("mutated")))
		return
	case s46ctHeader:
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(v.Float() + 1)
	case reflect.String:
		v.SetString(v.String() + "!")
	case reflect.Slice:
		for i := range v.Len() {
			s46ctMutate(v.Index(i))
		}
		v.Set(reflect.AppendSlice(v, v)) // doubled: past any padding
	case reflect.Array:
		for i := range v.Len() {
			s46ctMutate(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			s46ctMutate(e)
			v.SetMapIndex(k, e)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			s46ctMutate(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				s46ctMutate(v.Field(i))
			}
		}
	}
}

// Contract 1 and the dispatch doc ("The event is a heap clone and the
// handler's to keep"): the clones of one publish, carved from one
// allocation, are independent. Every message of the shared venue samples
// (each venue, each kind: trades, books, tickers, klines, marks,
// liquidations, execution reports, control), Raw kept, goes to four
// handler subscribers, queued and inline; then subscribers 0 and 1 edit
// every field of every event they got in place (levels, Raw, out-of-line
// sections, appends included): subscribers 2 and 3's events are still what
// was published.
func TestS46ctSubscriberClonesIndependent(t *testing.T) {
	files, err := filepath.Glob("/work/shared/venues/*.json")
	require.NoError(t, err)
	if len(files) == 0 {
		t.Skip("no shared venue samples")
	}
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	const subs = 4 // 0 and 2 queued, 1 and 3 inline (dispatch doc "Inline delivery": still clones)
	var mu sync.Mutex
	got := make([][]*schema.CanonicalEvent, subs)
	for i := range subs {
		_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{
			OrderedBound: 1 << 16, CriticalBound: 1 << 16, Inline: i%2 == 1,
			Handler: func(ev *schema.CanonicalEvent) { mu.Lock(); got[i] = append(got[i], ev); mu.Unlock() }})
		require.NoError(t, err)
	}
	ctors := map[string]func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser{
		"binance": normalize.NewBinance, "okx": normalize.NewOKX, "bybit": normalize.NewBybit,
		"kraken": normalize.NewKraken, "coinbase": normalize.NewCoinbase,
	}
	for _, f := range files {
		venue, _, _ := strings.Cut(filepath.Base(f), "_")
		ctor, ok := ctors[venue]
		if !ok {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		p := ctor(pools.Events, d, &normalize.Options{KeepRaw: true})
		_ = p.HandleBytes(ctx, b, 1_700_000_000_000_000_000) // a sample this parser refuses publishes nothing
	}
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))

	mu.Lock()
	defer mu.Unlock()
	types := map[schema.EventType]bool{}
	want := make([][]*schema.CanonicalEvent, subs)
	for _, i := range []int{2, 3} {
		require.Greater(t, len(got[i]), 30, "the samples made too few events")
		for _, ev := range got[i] {
			c := ev.Clone()
			// Clone's empty side is [], a publish's nil: the same "no level".
			if len(c.Book.Asks) == 0 {
				c.Book.Asks = ev.Book.Asks
			}
			if len(c.Book.Bids) == 0 {
				c.Book.Bids = ev.Book.Bids
			}
			want[i] = append(want[i], c)
			types[ev.Type] = true
		}
	}
	for _, typ := range []schema.EventType{schema.EventTrade, schema.EventBookSnapshot, schema.EventBookUpdate,
		schema.EventTicker, schema.EventExecReport, schema.EventKlineLive} {
		require.True(t, types[typ], "no %s in the samples", typ)
	}
	for _, sub := range got[:2] {
		for _, ev := range sub {
			s46ctAppendsOwn(t, ev)
			s46ctMutate(reflect.ValueOf(ev).Elem())
		}
	}
	for _, i := range []int{2, 3} {
		for j, ev := range got[i] {
			require.Equal(t, want[i][j], ev, "subscriber %d's event %d (%s %s) changed by another subscriber's edits", i, j, ev.Venue, ev.Type)
		}
	}
}

// s46ctAppendsOwn appends to ev's bids, then asks, then Raw, each doubled,
// and checks each append left the event's other slices as they were: the
// three share one allocation, and a capacity that ran into the next would
// let an append write over it.
func s46ctAppendsOwn(t *testing.T, ev *schema.CanonicalEvent) {
	t.Helper()
	asks, raw := slices.Clone(ev.Book.Asks), slices.Clone(ev.Raw)
	ev.Book.Bids = append(ev.Book.Bids, ev.Book.Bids...)
	require.Equal(t, asks, ev.Book.Asks, "%s %s: an append to the bids wrote over the asks", ev.Venue, ev.Type)
	require.Equal(t, raw, ev.Raw, "%s %s: an append to the bids wrote over Raw", ev.Venue, ev.Type)
	ev.Book.Asks = append(ev.Book.Asks, ev.Book.Asks...)
	require.Equal(t, raw, ev.Raw, "%s %s: an append to the asks wrote over Raw", ev.Venue, ev.Type)
	ev.Raw = append(ev.Raw, ev.Raw...)
}
