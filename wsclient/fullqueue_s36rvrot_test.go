package wsclient

import (
	"errors"
	"sync"
	"testing"

	"github.com/meltica/meltica/schema"
)

// holdAtRotating makes OnEvent hold on the first ConnRotating event until
// release is called, after telling rotating; the queue holds one event.
// The caller registers release as a cleanup after the harness's (Run
// waits for OnEvent).
func holdAtRotating() (tune func(*Options), rotating chan struct{}, release func()) {
	hold := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	rotating = make(chan struct{}, 1)
	var first sync.Once
	tune = func(opts *Options) {
		opts.EventBuffer = 1
		user := opts.OnEvent
		opts.OnEvent = func(ev Event) {
			user(ev)
			if ev.State == schema.ConnRotating {
				first.Do(func() {
					rotating <- struct{}{}
					<-hold
				})
			}
		}
	}
	return tune, rotating, release
}

// A rotation that drops frames of the new connection from before the join
// while OnEvent is behind and the event queue is full: the
// ErrRotationDropped event waits for room, as the switch's other losses
// do, and reaches OnEvent before the new connection's first frame. Before
// s36rvrot it was queued without waiting (emit): dropped from the full
// queue, the host never heard of the loss — the Connected event after it
// names the rotation, which a session takes for no loss — and a session
// published no gap marker.
func TestS36rvrotDroppedLossWaitsForRoom(t *testing.T) {
	tune, rotating, release := holdAtRotating()
	h, v, o, subscribed := rotateScripted(t, tune)
	t.Cleanup(release) // before the harness's Close
	rotateDropping(t, h, v, o, subscribed, func() {
		recvWait(t, rotating, "OnEvent holding at Rotating")
		h.c.emit(Event{State: h.c.State(), Reason: ReasonHandlerError, Err: errors.New("an earlier event")}, false) // the queue is full
	}, release)
}
