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
	s, b, markers := frameLossBook(t, []string{"depth@100ms"},
		[]schema.EventType{schema.EventBookUpdate, schema.EventBookSnapshot, schema.EventBBO},
		func(ev *schema.CanonicalEvent) bool { return ev.Control.Reason == book.ReasonReconnect })
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

// frameLossBook starts a session on venuesim following channels of
// BTC-USDT, waits for its book to be live, then pauses the venue (no diff
// of the live connection makes the book live again): markers has the
// stamps of the gap markers, kept by keep, heard by a subscriber of types.
func frameLossBook(t *testing.T, channels []string, types []schema.EventType, keep func(*schema.CanonicalEvent) bool) (s *Session, b *book.Book, markers <-chan int64) {
	t.Helper()
	v := venuesim.Start(&venuesim.Options{Rate: 400})
	t.Cleanup(v.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	heard := make(chan int64, 64)
	s, err := Start(ctx, Config{Endpoints: Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols: []string{"BTC-USDT"}, Channels: channels,
		Subscribe: func(d *dispatch.Dispatcher) error {
			_, err := d.Subscribe(dispatch.Filter{Types: types}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
				if ev.Type == schema.EventGap && keep(ev) {
					select {
					case heard <- ev.IngestTS:
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
	b = s.Book("BTC-USDT")
	require.NotNil(t, b)
	require.Eventually(t, b.Live, time.Minute, 5*time.Millisecond)
	v.Pause(true)
	return s, b, heard
}
