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
	ctx := context.Background()
	pools := schema.NewPools(nil)
	s := &Session{pools: pools, disp: dispatch.New(pools.Events, nil)}
	s.spec = &venueSpec{venue: schema.VenueBinance}
	var mu sync.Mutex
	var got []schema.CanonicalEvent
	_, err := s.disp.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		mu.Lock()
		got = append(got, *ev)
		mu.Unlock()
	}})
	require.NoError(t, err)
	m := &lossMarker{s: s, lost: true, active: true}
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
		require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= st.want }, time.Minute, time.Millisecond)
		mu.Lock()
		assert.Len(t, got, st.want, "step %d: %+v", i, st.e)
		mu.Unlock()
	}
	require.NoError(t, s.disp.Close(ctx))
	assert.Len(t, got, 2)
	require.NoError(t, pools.Shutdown(ctx))
}
