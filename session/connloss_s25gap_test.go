package session

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// One marker per loss: not for the states that follow it on the same
// connection, not for a rotation, not before the first connection, not
// while the session closes; again for the loss of the next connection,
// and for a loss whose event wsclient dropped (a new connection named
// after dropped events).
func TestS25gapLossMarkerOncePerLoss(t *testing.T) {
	p := newMarkerProbe(t)
	s, m := p.s, p.m
	steps := []struct {
		e    wsclient.Event
		want int // markers so far
	}{
		{wsclient.Event{State: schema.ConnConnecting}, 0},
		{wsclient.Event{State: schema.ConnReconnecting, ConnID: 0}, 0}, // a failed first dial: nothing was delivered
		{wsclient.Event{State: schema.ConnConnected, ConnID: 1}, 0},
		{wsclient.Event{State: schema.ConnRotating, ConnID: 1, Reason: wsclient.ReasonRotation}, 0},
		{wsclient.Event{State: schema.ConnConnected, ConnID: 2, Reason: wsclient.ReasonRotation}, 0},
		{wsclient.Event{State: schema.ConnDisconnected, ConnID: 2, Reason: wsclient.ReasonReadError}, 1},
		{wsclient.Event{State: schema.ConnReconnecting, ConnID: 2}, 1},
		{wsclient.Event{State: schema.ConnConnected, ConnID: 3}, 1},
		{wsclient.Event{State: schema.ConnConnected, ConnID: 4, Dropped: 2}, 2}, // conn 3's loss was dropped
		{wsclient.Event{State: schema.ConnDisconnected, ConnID: 4}, 3},
		{wsclient.Event{State: schema.ConnDisconnected, ConnID: 5}, 4}, // conn 5's Connected was dropped
	}
	for i, st := range steps {
		m.onEvent(st.e)
		p.wantMarkers(t, st.want, "step %d: %+v", i, st.e)
	}
	m.onEvent(wsclient.Event{State: schema.ConnConnected, ConnID: 6})
	s.closing.Store(true)
	m.onEvent(wsclient.Event{State: schema.ConnClosed, ConnID: 6, Reason: wsclient.ReasonClosed})
	got := p.close(t)
	assert.Len(t, got, 4, "none while closing")
	for _, g := range got {
		assert.Equal(t, schema.EventGap, g.Type)
		assert.Equal(t, schema.EventUnknown, g.Control.GapType)
		assert.Equal(t, schema.GapVenue, g.Control.GapSource)
		assert.Empty(t, g.Symbol)
	}
}
