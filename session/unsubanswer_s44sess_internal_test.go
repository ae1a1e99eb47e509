package session

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// TestS44sessUnsubscribeAnswer: an answer echoing the market unsubscribe's
// request id is one on the venues that echo it (Bybit, Kraken, OKX), not
// on Binance or for another id; an event without a Control section is
// none and stays without one (the schema's nil-safe reader, no own nil
// check).
func TestS44sessUnsubscribeAnswer(t *testing.T) {
	answer := func(v schema.Venue, id uint64) *schema.CanonicalEvent {
		ev := &schema.CanonicalEvent{Venue: v, Type: schema.EventControl}
		*ev.UseControl() = schema.Control{Kind: schema.ControlVenueError, RequestID: id}
		return ev
	}
	for _, v := range []schema.Venue{schema.VenueBybit, schema.VenueKraken, schema.VenueOKX} {
		assert.True(t, unsubscribeAnswer(answer(v, unsubReqID)), v)
		assert.False(t, unsubscribeAnswer(answer(v, subReqID)), v)
		bare := &schema.CanonicalEvent{Venue: v, Type: schema.EventControl}
		assert.False(t, unsubscribeAnswer(bare), v)
		assert.Nil(t, bare.Control, "%s: the reader made no Control", v)
	}
	assert.False(t, unsubscribeAnswer(answer(schema.VenueBinance, unsubReqID)))
}
