package meltica_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// dispatch/doc.go, Ordered lane: "A published marker is never dropped: one
// at the front of a full lane becomes its stream's waiting marker ... and
// its source"; a subscriber "always hears of a gap before it sees the
// stream continue". Binance spot depth diffs chain by U = previous u + 1
// ("How to manage a local order book correctly"); the venue skips ids
// twice (the parser's gap markers, GapSource venue), and the subscriber,
// held still with an OrderedBound of 4, drops most diffs too. Once
// released: diffs in order, every hole in the ids covered by a marker
// delivered before the diff after it, and both venue losses still told
// (a marker of source venue, or one that absorbed it, before the diff
// after each).
func TestS25ctVenueGapMarkerSurvivesAFullLane(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	hold := make(chan struct{})
	type got struct {
		typ         schema.EventType
		first, last uint64
		source      schema.GapSource
		count       uint64
	}
	var mu sync.Mutex
	var evs []got
	sub, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBookUpdate}}, &dispatch.SubscribeOptions{OrderedBound: 4, Handler: func(ev *schema.CanonicalEvent) {
		<-hold
		mu.Lock()
		defer mu.Unlock()
		if ev.Type == schema.EventGap {
			evs = append(evs, got{ev.Type, ev.Control.GapFirstSeq, ev.Control.GapLastSeq, ev.Control.GapSource, ev.Control.GapCount})
		} else {
			evs = append(evs, got{ev.Type, ev.Book.FirstSeq, ev.Book.LastSeq, 0, 0})
		}
	}})
	require.NoError(t, err)
	p := normalize.NewBinance(pools.Events, d, nil)
	u := uint64(1000)
	venueHoles := map[uint64]bool{} // first id of the diff after a venue skip
	for i := range 200 {
		first := u + 1
		if i == 50 || i == 150 {
			first += 7 // the venue lost 7 ids
			venueHoles[first] = true
		}
		u = first + 2
		msg := fmt.Appendf(nil, `{"e":"depthUpdate","E":1700000000000,"s":"BTCUSDT","U":%d,"u":%d,"b":[["1.00","2.00"]],"a":[["1.01","3.00"]]}`, first, u)
		_ = p.HandleBytes(ctx, msg, int64(i))
	}
	t.Logf("parser: %+v", p.Stats())
	close(hold)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(evs) > 0 && evs[len(evs)-1].typ == schema.EventBookUpdate && evs[len(evs)-1].last == u
	}, time.Minute, time.Millisecond, "the last diff delivered")
	mu.Lock()
	defer mu.Unlock()
	var prev uint64
	told, venueTold := false, false
	for _, e := range evs {
		if e.typ == schema.EventGap {
			told = true
			venueTold = venueTold || e.source == schema.GapVenue
			continue
		}
		if prev != 0 {
			require.Greater(t, e.first, prev, "diffs reordered")
			if e.first != prev+1 {
				assert.True(t, told, "ids %d..%d lost without a marker before the diff from %d", prev+1, e.first-1, e.first)
			}
		}
		for h := range venueHoles {
			if prev < h && h <= e.first && prev != 0 {
				assert.True(t, venueTold, "the venue's loss before id %d was not told as the venue's", h)
			}
		}
		prev, told, venueTold = e.last, false, false
	}
	t.Logf("%d delivered; subscription %+v", len(evs), sub.Stats())
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}
