package normalize

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s31quoteFull and s31quoteMini are Binance's two 24 h tickers of one
// symbol ("WebSocket Streams for Binance": "Individual Symbol Ticker
// Streams", "Individual Symbol Mini Ticker Stream"), both EventTicker, at
// event time e (ms), last trade id l (full only).
func s31quoteFull(e int64, l int, last string) []byte {
	return fmt.Appendf(nil, `{"stream":"btcusdt@ticker","data":{"e":"24hrTicker","E":%d,"s":"BTCUSDT","p":"15.00","P":"0.02","w":"67010.00","x":"66990.00","c":%q,"Q":"0.010","b":"67010.00","B":"1.5","a":"67010.01","A":"2.5","o":"66995.00","h":"67100.00","l":"66900.00","v":"1000.0","q":"67000000.0","O":1,"C":%d,"F":1,"L":%d,"n":%d}}`, e, last, e, l, l)
}

func s31quoteMini(e int64, last string) []byte {
	return fmt.Appendf(nil, `{"stream":"btcusdt@miniTicker","data":{"e":"24hrMiniTicker","E":%d,"s":"BTCUSDT","c":%q,"o":"66995.00","h":"67100.00","l":"66900.00","v":"999.0","q":"66900000.0"}}`, e, last)
}

// S31: two streams of one event type (Binance 24hrTicker, 24hrMiniTicker)
// were compared each with itself alone: a mini ticker of an earlier "E"
// after a full one of a later "E" was delivered, and a subscriber's
// latest ticker went back in time (contract 4). Compared across the
// type's streams by the exchange time: a strictly older one is dropped
// and counted (Stats.Repeats), one at the same time is delivered, and
// each direction holds (a full ticker older than a mini one too). A venue
// clock gone back is followed after quoteRepeatWindow. Failed before:
// the mini ticker of +400 ms was delivered after the full one of +1000.
func TestS31quoteTickerKindsNeverGoBackInTime(t *testing.T) {
	const e0 = int64(1_764_590_400_000)
	steps := []struct {
		msg     []byte
		ingest  int64
		deliver bool
	}{
		{s31quoteFull(e0+1000, 200, "1.00"), 1, true},
		{s31quoteMini(e0+400, "2.00"), 2, false},       // older, the other kind
		{s31quoteMini(e0+1000, "3.00"), 3, true},       // the same instant: delivered
		{s31quoteMini(e0+1200, "4.00"), 4, true},       // newer
		{s31quoteFull(e0+1100, 201, "5.00"), 5, false}, // a full ticker older than the mini one
		{s31quoteFull(e0+1300, 202, "6.00"), 6, true},
		// The venue's clock went back for longer than the window: followed.
		{s31quoteMini(e0+10, "7.00"), 6 + quoteRepeatWindow - 1, false},
		{s31quoteMini(e0+20, "8.00"), 6 + quoteRepeatWindow, true},
	}
	p, sink, _ := newRecParser(t, nil)
	var want []string
	for i, s := range steps {
		require.NoError(t, p.HandleBytes(context.Background(), s.msg, s.ingest), "step %d", i)
		if s.deliver {
			want = append(want, fmt.Sprintf("%d.00", i+1))
		}
	}
	var got []string
	for _, ev := range sink.got {
		got = append(got, ev.Ticker.Last.String())
	}
	assert.Equal(t, want, got)
	assert.Equal(t, uint64(3), p.Stats().Repeats, "each older ticker dropped is counted")
}

// The comparison across streams keeps symbols and event types apart: an
// older ticker of another symbol, or a best bid/offer, is no repeat.
func TestS31quoteOtherSymbolsAndTypesKeepTheirOwnMarks(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	for i, m := range []string{
		string(s31quoteFull(2000, 10, "1.00")),
		`{"stream":"ethusdt@miniTicker","data":{"e":"24hrMiniTicker","E":1000,"s":"ETHUSDT","c":"1","o":"1","h":"1","l":"1","v":"1","q":"1"}}`,
		`{"stream":"btcusdt@bookTicker","data":{"u":5,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1","E":1000,"T":1000}}`,
	} {
		require.NoError(t, p.HandleBytes(context.Background(), []byte(m), int64(i+1)))
	}
	require.Len(t, sink.got, 3)
	assert.Zero(t, p.Stats().Repeats)
}

// The comparison across a type's streams allocates nothing once a
// symbol was seen.
func TestS31quoteTickerKindsZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	events := schema.NewPools(nil).Events
	p := NewBinance(events, &putSink{events: events}, nil)
	ctx := context.Background()
	const n = 200
	msgs := make([][]byte, 0, 2*n+2)
	for i := range int64(n + 1) {
		msgs = append(msgs, s31quoteFull(1000+2*i, int(i+1), "1.00"), s31quoteMini(1000+2*i+1, "2.00"))
	}
	require.NoError(t, p.HandleBytes(ctx, msgs[0], 1))
	require.NoError(t, p.HandleBytes(ctx, msgs[1], 1))
	k := 2
	allocs := testing.AllocsPerRun(2*n-1, func() {
		if err := p.HandleBytes(ctx, msgs[k], 1); err != nil {
			t.Fatal(err)
		}
		k++
	})
	require.Zero(t, allocs)
}
