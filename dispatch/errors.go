package dispatch

import (
	"errors"
	"fmt"

	"github.com/meltica/meltica/schema"
)

var (
	// ErrClosed is returned by Publish and Subscribe once Close has begun.
	// Publish has still returned the event to its pool.
	ErrClosed = errors.New("dispatch: closed")
	// ErrNilEvent is returned by Publish for a nil event.
	ErrNilEvent = errors.New("dispatch: nil event")
	// ErrNotPooled is matched by the [*NotPooledError] Publish returns for an
	// event that is not checked out of a pool.
	ErrNotPooled = errors.New("dispatch: event not checked out of a pool")
	// ErrUnknownSubscription is returned by Unsubscribe for a subscription
	// that is not (or no longer) one of the dispatcher's.
	ErrUnknownSubscription = errors.New("dispatch: unknown subscription")
	// ErrCloseInHandler is returned by Close called from inside an inline
	// subscription's handler (SubscribeOptions.Inline): Close waits for
	// the inline calls running, that one among them, which cannot return
	// while Close waits. Nothing is closed. Close from a goroutine of the
	// host's (go d.Close(ctx)) instead. Close tells by its caller's stack,
	// which does not name the dispatcher: Close of one dispatcher from an
	// inline handler of another is refused too.
	ErrCloseInHandler = errors.New("dispatch: Close called from inside an inline handler")
	// ErrBadOptions is matched by the [*OptionsError] Subscribe returns.
	ErrBadOptions = errors.New("dispatch: bad subscribe options")
)

// OptionsError is returned by Subscribe for options that cannot work:
// Field names the option (SubscribeOptions' field), Reason why. Nothing
// is subscribed.
type OptionsError struct {
	Field  string
	Reason string
}

func (e *OptionsError) Error() string {
	return "dispatch: SubscribeOptions." + e.Field + ": " + e.Reason
}

// Is makes errors.Is(err, ErrBadOptions) true.
func (e *OptionsError) Is(target error) bool { return target == ErrBadOptions }

// NotPooledError is returned by Publish when the event is not a pooled
// original of the dispatcher's pool: a heap clone (what subscribers
// receive), an event made with new, one that was already returned, or one
// checked out of another pool. The dispatcher neither
// queues nor returns such an event: it is not the dispatcher's to return.
type NotPooledError struct {
	Venue  schema.Venue
	Symbol string
	Type   schema.EventType
}

func (e *NotPooledError) Error() string {
	return fmt.Sprintf("dispatch: Publish of a %s event (%s %s) that is not checked out of the dispatcher's pool: "+
		"a subscriber's heap clone, an event made with new, one already returned, or another pool's; "+
		"publish only originals taken from the dispatcher's events pool", e.Type, e.Venue, e.Symbol)
}

// Is makes errors.Is(err, ErrNotPooled) true.
func (e *NotPooledError) Is(target error) bool { return target == ErrNotPooled }

// CloseError is returned by Close when its context ended before every
// subscriber had drained its queues. What was still queued was released;
// subscribers still inside their handler exit when the handler returns.
type CloseError struct {
	Discarded uint64 // queued events released undelivered
	Running   int    // subscriber goroutines still inside a handler
	Err       error  // the context's error
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("dispatch: close gave up draining: %d events released, %d subscribers still in their handler: %v",
		e.Discarded, e.Running, e.Err)
}

// Unwrap returns the context's error.
func (e *CloseError) Unwrap() error { return e.Err }
