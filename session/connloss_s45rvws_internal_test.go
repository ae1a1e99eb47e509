package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// TestS45rvwsReconnectingAfterARefusedRotationMarksTheLoss: a connection
// lost while a failed rotation's retry waits out the venue's Retry-After
// is redialled after that wait, and its Reconnecting event tells the
// rotation's error with ReasonRotation (wsclient's Event doc, since
// S44). Should the Disconnected event before it have been dropped from
// wsclient's queue (a slow OnEvent: Dropped > 0), the Reconnecting event
// is the first the session hears of the loss, and the loss is marked
// once there. Before, a lost state with ReasonRotation was taken for a
// rotation's own report and no gap marker was published: subscribers
// traded across the gap.
func TestS45rvwsReconnectingAfterARefusedRotationMarksTheLoss(t *testing.T) {
	p := newMarkerProbe(t)
	m := p.m
	refused := &wsclient.HandshakeError{StatusCode: 429, RetryAfter: 7 * time.Second}
	steps := []struct {
		e    wsclient.Event
		want int // markers so far
	}{
		{wsclient.Event{State: schema.ConnConnected, ConnID: 1}, 0},
		{wsclient.Event{State: schema.ConnRotating, ConnID: 1, Reason: wsclient.ReasonRotation}, 0},
		{wsclient.Event{State: schema.ConnConnected, ConnID: 1, Reason: wsclient.ReasonRotation, Err: refused}, 0}, // the rotation failed: old kept
		// Connection 1's Disconnected (read_error) dropped from the queue.
		{wsclient.Event{State: schema.ConnReconnecting, ConnID: 1, Reason: wsclient.ReasonRotation, Err: refused, Attempt: 1, Delay: 7 * time.Second, Dropped: 1}, 1},
		{wsclient.Event{State: schema.ConnConnected, ConnID: 3}, 1}, // no second marker for the same loss
		{wsclient.Event{State: schema.ConnDisconnected, ConnID: 3, Reason: wsclient.ReasonReadError}, 2},
		// Told in full: the Reconnecting event after a marked loss adds none.
		{wsclient.Event{State: schema.ConnReconnecting, ConnID: 3, Reason: wsclient.ReasonRotation, Err: refused, Attempt: 1, Delay: 7 * time.Second}, 2},
		{wsclient.Event{State: schema.ConnConnected, ConnID: 4}, 2},
	}
	for i, st := range steps {
		m.onEvent(st.e)
		p.wantMarkers(t, st.want, "step %d: %+v", i, st.e)
	}
	got := p.close(t)
	require.Len(t, got, 2)
	assert.Equal(t, "connection lost", got[0].Control.Reason, "not 'rotation': the loss's cause went with the dropped event")
	assert.Equal(t, "connection lost: read_error", got[1].Control.Reason)
}

// markerProbe is a loss marker on a bare session whose gap markers a
// subscriber of trades collects (S25's harness).
type markerProbe struct {
	s   *Session
	m   *lossMarker
	mu  sync.Mutex
	got []schema.CanonicalEvent
}

func newMarkerProbe(t *testing.T) *markerProbe {
	t.Helper()
	pools := schema.NewPools(nil)
	p := &markerProbe{s: &Session{pools: pools, disp: dispatch.New(pools.Events, nil)}}
	p.s.spec = &venueSpec{venue: schema.VenueBinance}
	_, err := p.s.disp.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		p.mu.Lock()
		p.got = append(p.got, *ev)
		p.mu.Unlock()
	}})
	require.NoError(t, err)
	p.m = &lossMarker{s: p.s, lost: true, active: true}
	t.Cleanup(func() { assert.NoError(t, pools.Shutdown(context.Background())) }) // after the markers are read
	return p
}

// wantMarkers waits for want markers and checks that there are no more.
func (p *markerProbe) wantMarkers(t *testing.T, want int, msgAndArgs ...any) {
	t.Helper()
	require.Eventually(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(p.got) >= want }, time.Minute, time.Millisecond)
	p.mu.Lock()
	assert.Len(t, p.got, want, msgAndArgs...)
	p.mu.Unlock()
}

// close closes the dispatcher (every marker delivered), and returns the
// markers.
func (p *markerProbe) close(t *testing.T) []schema.CanonicalEvent {
	t.Helper()
	require.NoError(t, p.s.disp.Close(context.Background()))
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got
}
