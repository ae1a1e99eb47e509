package normalize

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

func newTestVenue(t *testing.T, venue schema.Venue) (frameParser, *recSink) {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	t.Cleanup(func() { require.Zero(t, events.Stats().InUse, "events not returned to the pool") })
	return newVenueParser(venue, events, sink), sink
}

// OKX books: a snapshot restarts the sequence, a diff must name the last
// seqId as its prevSeqId, and a break is reported before the diff.
func TestOKXBookSequence(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueOKX)
	ctx := context.Background()
	snap := []byte(`{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["1","1","0","1"]],"bids":[],"ts":"1","checksum":1,"prevSeqId":-1,"seqId":10}]}`)
	require.NoError(t, p.HandleBytes(ctx, snap, 1))
	require.NoError(t, p.HandleBytes(ctx, okxBookJSON(1, 10, 11), 1))
	require.NoError(t, p.HandleBytes(ctx, okxBookJSON(1, 11, 11), 1)) // no change
	require.Zero(t, p.Stats().Gaps)
	require.NoError(t, p.HandleBytes(ctx, okxBookJSON(1, 14, 15), 1))
	require.Equal(t, uint64(1), p.Stats().Gaps)
	g := sink.got[len(sink.got)-2]
	require.Equal(t, schema.EventGap, g.Type)
	require.Equal(t, uint64(12), g.Control.GapFirstSeq)
	require.Equal(t, uint64(14), g.Control.GapLastSeq)
	require.NoError(t, p.HandleBytes(ctx, snap, 1)) // resubscribed: starts again
	require.NoError(t, p.HandleBytes(ctx, okxBookJSON(1, 10, 11), 1))
	require.Equal(t, uint64(1), p.Stats().Gaps)
}

// Each venue's own fixtures: controls, errors and unknown types.
func TestVenueControlFixtures(t *testing.T) {
	tests := []struct {
		venue schema.Venue
		file  string
		kind  schema.ControlKind
		reqID uint64
		code  int64
		text  string
	}{
		{cb, "error", schema.ControlVenueError, 0, 0, "Failed to subscribe"},
		{kr, "subscribe_error", schema.ControlVenueError, 12, 0, "Currency pair not supported"},
		{ox, "error", schema.ControlVenueError, 0, 60012, `Invalid request: {"op": "subscribe", "argss":[{ "channel" : "books", "instId" : "BTC-USDT"}]}`},
	}
	for _, tt := range tests {
		t.Run(string(tt.venue)+" "+tt.file, func(t *testing.T) {
			p, sink := newTestVenue(t, tt.venue)
			require.NoError(t, p.HandleBytes(context.Background(), venueFixture(t, tt.venue, tt.file), 42))
			c := control(t, sink.got, tt.venue, tt.kind)
			require.Equal(t, tt.reqID, c.RequestID)
			require.Equal(t, tt.code, c.Code)
			require.Equal(t, tt.text, c.Reason)
		})
	}
}

func TestOKXPong(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueOKX)
	require.NoError(t, p.HandleBytes(context.Background(), []byte("pong"), 42))
	control(t, sink.got, ox, schema.ControlHeartbeat)
}

func TestVenueUnknownAndErrors(t *testing.T) {
	for _, v := range []schema.Venue{cb, kr, ox} {
		t.Run(string(v), func(t *testing.T) {
			p, sink := newTestVenue(t, v)
			ctx := context.Background()
			require.NoError(t, p.HandleBytes(ctx, []byte(`{"channel":"nope","arg":{"channel":"nope"},"type":"nope","topic":"nope.X"}`), 1))
			require.Equal(t, uint64(1), p.Stats().Unknown)
			err := p.HandleBytes(ctx, []byte(`{"channel":`), 1)
			var pe *ParseError
			require.True(t, errors.As(err, &pe), "%v", err)
			require.Equal(t, v, pe.Venue)
			require.ErrorIs(t, err, ErrMalformed)
			require.Empty(t, sink.got)
		})
	}
}

// Kraken v1 splits a book update into two objects: one event.
func TestKrakenV1TwoPartUpdate(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueKraken)
	require.NoError(t, p.HandleBytes(context.Background(), venueFixture(t, kr, "v1_book_update"), 42))
	require.Len(t, sink.got, 1)
	b := at(t, sink.got, 0, kr, schema.EventBookUpdate, "BTC-USD", 0, 0).Book
	require.Len(t, b.Asks, 2)
	require.Len(t, b.Bids, 1)
	requireLevel(t, b.Asks[1], "5542.50000", "0.40100000")
	requireLevel(t, b.Bids[0], "5541.30000", "0.00000000")
	require.Equal(t, uint32(974942666), b.Checksum)
}

func TestKrakenExecTrade(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueKraken)
	require.NoError(t, p.HandleBytes(context.Background(), venueFixture(t, kr, "executions_trade"), 42))
	x := at(t, sink.got, 0, kr, schema.EventExecReport, "BTC-USD", 149, 1695378785709993000).Exec
	require.Equal(t, "my-order-1", x.ClientOrderID.String())
	require.Equal(t, "365573", x.TradeID.String())
	require.Equal(t, schema.ExecTrade, x.ExecType)
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)
	require.Equal(t, schema.OrderTypeLimit, x.Type)
	require.Equal(t, schema.TIFGTC, x.TimeInForce)
	requireDigits(t, "0.5", x.Qty)
	requireDigits(t, "26500.0", x.Price)
	requireDigits(t, "0.1", x.LastFillQty)
	requireDigits(t, "2650.0", x.CumQuoteQty)
	requireDigits(t, "0.4", x.RemainingQty)
}
