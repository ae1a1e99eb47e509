package venuesim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// s37Book is one side's levels, by price text, as a client keeps them.
type s37Book map[string]string

// apply applies a diff's levels: quantity zero deletes the level.
func (b s37Book) apply(levels [][]string) {
	for _, l := range levels {
		if l[1] == "0.00000000" {
			delete(b, l[0])
		} else {
			b[l[0]] = l[1]
		}
	}
}

func s37BookOf(levels [][]string) s37Book {
	b := s37Book{}
	b.apply(levels)
	return b
}

// s37Diff is a Binance depthUpdate.
type s37Diff struct {
	Event string     `json:"e"`
	Time  int64      `json:"E"`
	First uint64     `json:"U"`
	Last  uint64     `json:"u"`
	Bids  [][]string `json:"b"`
	Asks  [][]string `json:"a"`
}

// s37Snapshot is GET /api/v3/depth's answer, every level (limit 5000).
func s37Snapshot(t *testing.T, v *venuesim.Venue) (bids, asks s37Book, last uint64) {
	t.Helper()
	s := getSnapshot(t, v, "BTCUSDT", 5000)
	b, a := s37Book{}, s37Book{}
	for _, l := range s.Bids {
		b[l[0]] = l[1]
	}
	for _, l := range s.Asks {
		a[l[0]] = l[1]
	}
	return b, a, s.LastUpdateID
}

// Binance batches a symbol's depth diffs per interval ("Diff. Depth
// Stream", "Update Speed: 1000ms or 100ms"): <symbol>@depth pushes each
// second the changes of the second, @depth@100ms each 100 ms those of the
// 100 ms, U the first update id of the interval and u its last, each U the
// previous u + 1, a level changed twice sent once with its last quantity.
// venuesim pushed a diff per change of the book (here one every
// millisecond of a 10 ms step): E on no 100 ms boundary.
func TestS37simBinanceDepthBatchedPerInterval(t *testing.T) {
	v, clk := s34simStart(t, "BTCUSDT")
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.CombinedURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	msgs := s34simReader(ctx, t, c)
	s34simSubscribe(ctx, t, c, msgs, "btcusdt@depth", "btcusdt@depth@100ms")
	bids, asks, last := s37Snapshot(t, v) // the clock has not moved: the book as it started

	s36Step(t, clk, 110, 10*time.Millisecond) // 1.1 s of changes
	v.Pause(true)
	s36Step(t, clk, 11, 10*time.Millisecond) // the last batch goes out
	wantBids, wantAsks, final := s37Snapshot(t, v)
	require.Greater(t, final, last, "the book changed")

	t0 := s34simT0.UnixMilli()
	var slow []s37Diff
	prevE := t0
	for last != final {
		m := s34simNext(t, msgs)
		var d s37Diff
		require.NoError(t, json.Unmarshal(m.Data, &d))
		require.Equal(t, "depthUpdate", d.Event)
		if m.Stream == "btcusdt@depth" {
			slow = append(slow, d)
			continue
		}
		require.Equal(t, "btcusdt@depth@100ms", m.Stream)
		assert.Zero(t, (d.Time-t0)%100, "E %d: a 100 ms tick", d.Time-t0)
		assert.Greater(t, d.Time, prevE, "one diff an interval")
		require.Equal(t, last+1, d.First, "U: the previous u + 1")
		require.GreaterOrEqual(t, d.Last, d.First)
		prevE, last = d.Time, d.Last
		bids.apply(d.Bids)
		asks.apply(d.Asks)
	}
	assert.Equal(t, wantBids, bids, "the batched diffs rebuild the book")
	assert.Equal(t, wantAsks, asks)
	require.Len(t, slow, 1, "@depth: one diff a second")
	assert.Equal(t, t0+1000, slow[0].Time)
	assert.Equal(t, uint64(1001), slow[0].First, "the second's first update")
}

// s37OKXBooks is GET /api/v5/market/books' book, every level.
func s37OKXBooks(t *testing.T, v *venuesim.Venue) (bids, asks s37Book, seq int64) {
	t.Helper()
	resp, err := http.Get(v.RESTURL() + "/api/v5/market/books?instId=BTC-USDT&sz=400")
	require.NoError(t, err)
	defer resp.Body.Close()
	var r struct {
		Data []struct {
			Asks  [][]string `json:"asks"`
			Bids  [][]string `json:"bids"`
			SeqID int64      `json:"seqId"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	require.Len(t, r.Data, 1)
	return s37BookOf(r.Data[0].Bids), s37BookOf(r.Data[0].Asks), r.Data[0].SeqID
}

// OKX batches its books channel per 100 ms ("Order book channel", books:
// "Incremental data will be pushed every 100 ms for the changes in the
// order book during that period of time"), each push chained on the last
// by prevSeqId. venuesim pushed an update per change.
func TestS37simOKXBooksBatchedPer100ms(t *testing.T) {
	v, clk := s34simStart(t, "BTCUSDT")
	c := s36OKX(t, v, "books")
	bids, asks, seq := s37OKXBooks(t, v)

	s36Step(t, clk, 50, 10*time.Millisecond)
	v.Pause(true)
	s36Step(t, clk, 11, 10*time.Millisecond)
	wantBids, wantAsks, final := s37OKXBooks(t, v)
	require.Greater(t, final, seq)

	t0 := s34simT0.UnixMilli()
	prevTS := t0
	for n := 0; seq != final; n++ {
		require.Less(t, n, 100, "no update reached seqId %d", final)
		m := s36Next(t, c)
		require.Equal(t, "update", m["action"], "%v", m)
		d := m["data"].([]any)[0].(map[string]any)
		ts := s37Int(t, d["ts"].(string))
		assert.Zero(t, (ts-t0)%100, "ts %d: a 100 ms tick", ts-t0)
		assert.Greater(t, ts, prevTS, "one push a 100 ms")
		require.Equal(t, float64(seq), d["prevSeqId"], "chained on the last push")
		seq, prevTS = int64(d["seqId"].(float64)), ts
		bids.apply(s37Levels(d["bids"]))
		asks.apply(s37Levels(d["asks"]))
	}
	assert.Equal(t, wantBids, bids, "the batched updates rebuild the book")
	assert.Equal(t, wantAsks, asks)
}

// s37Levels takes an OKX side's [price, size, "0", orders] levels.
func s37Levels(side any) [][]string {
	var out [][]string
	for _, l := range side.([]any) {
		x := l.([]any)
		out = append(out, []string{x[0].(string), x[1].(string)})
	}
	return out
}

func s37Int(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, json.Unmarshal([]byte(s), &n))
	return n
}
