package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
)

// TestS39rvsessFrameLossBookMarkerKeepsItsStamp: the frame path's loss
// (lossMarker.onFrame) of a book whose data came before the new
// connection's frame (the clock running forward) reaches the book stamped
// (ReceivedAt-1), so that the book's gap marker carries the stamp: the
// consolidated view (merge) refuses by it the dead connection's quotes
// still queued behind the marker (a marker is critical and overtakes
// them; an unstamped one refuses none — merge.before). s39sess sent every
// such loss unstamped (IngestTS 0), whatever the stamps said, for the rare
// clock stepped back (TestS39sessFrameLossBreaksBooksWhateverTheStamp).
func TestS39rvsessFrameLossBookMarkerKeepsItsStamp(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 400})
	t.Cleanup(v.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	markers := make(chan int64, 64) // the stamps of the book's markers
	s, err := Start(ctx, Config{Endpoints: Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"depth@100ms"},
		Subscribe: func(d *dispatch.Dispatcher) error {
			_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBookUpdate, schema.EventBookSnapshot, schema.EventBBO}},
				&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
					if ev.Type == schema.EventGap && ev.Control.Reason == book.ReasonReconnect {
						select {
						case markers <- ev.IngestTS:
						default:
						}
					}
				}})
			return err
		}})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, s.Close(ctx))
	})
	require.NoError(t, s.WaitConnected(ctx))
	b := s.Book("BTC-USDT")
	require.NotNil(t, b)
	require.Eventually(t, b.Live, time.Minute, 5*time.Millisecond)
	v.Pause(true) // no diff of the live connection makes it live again
	_, data := b.Updated()
	require.NotZero(t, data, "the book's data is stamped")

	at := data + int64(time.Millisecond) // the new connection's frame, after the book's data
	sh := s.shards[0]
	sh.loss.onFrame(&schema.WsFrame{ConnID: sh.client.Stats().ConnID + 1, ReceivedAt: at})
	assert.False(t, b.Live(), "a later connection's frame, no loss heard: the book is broken")
	select {
	case ts := <-markers:
		assert.Equal(t, at-1, ts, "the book's marker is stamped just before the new connection's frame")
	case <-time.After(time.Minute): // a guard, not a wait
		t.Fatal("no marker from the book")
	}
}
