package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A closed kline dropped on an exhausted pool (decoded into the scratch
// event) gets a gap marker naming its interval, as a stale live kline's
// marker does (fillStale): dispatch routes it to that interval's view
// only. It named none: every kline view of the symbol, or none, heard it.
func TestS43normDroppedClosedKlineMarkerNamesInterval(t *testing.T) {
	ctx := context.Background()
	p, sink, events, held := s25gapParser(t, 2, 1) // one event left: the marker's
	defer func() {
		for _, ev := range held {
			events.Put(ev)
		}
	}()
	ev := schema.NewReusableEvent()
	ev.Venue, ev.Type, ev.Symbol, ev.SeqProvider = schema.VenueBinance, schema.EventKlineClosed, "BTC-USDT", 7
	ev.UseKline().Interval = "1h"
	require.ErrorIs(t, p.dropped(ctx, ev), ErrDropped)
	require.Len(t, sink.evs, 1)
	g := sink.evs[0]
	require.Equal(t, schema.EventGap, g.Type)
	require.NotNil(t, g.Control)
	assert.Equal(t, schema.EventKlineClosed, g.Control.GapType)
	assert.Equal(t, "1h", g.KlineInterval(), "the marker names the dropped kline's interval")
	assert.Equal(t, []string{"gap BTC-USDT kline_closed 1h"}, sink.drain(events))

	// A trade's marker names no interval (no Kline section).
	tr := schema.NewReusableEvent()
	tr.Venue, tr.Type, tr.Symbol, tr.SeqProvider = schema.VenueBinance, schema.EventTrade, "BTC-USDT", 8
	require.ErrorIs(t, p.dropped(ctx, tr), ErrDropped)
	require.Len(t, sink.evs, 1)
	assert.Nil(t, sink.evs[0].Kline)
	sink.drain(events)
}
