package pool

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrExhausted is returned when no object could be had before the
	// context ended (Get) or at once (TryGet). Errors from Get also match the
	// context's own error.
	ErrExhausted = errors.New("pool: exhausted")
	// ErrClosed is returned by Get and TryGet after Shutdown has begun.
	ErrClosed = errors.New("pool: closed")
	// ErrLeaked is matched by the error Shutdown returns when objects are
	// still checked out at its deadline.
	ErrLeaked = errors.New("pool: objects not returned")
	// ErrNilContext is returned, and nothing done, by a call given a nil
	// context.Context (the context package: "Do not pass a nil Context";
	// pass context.Background or context.TODO): Get, Shutdown, and the
	// Close and Shutdown methods of the packages built on pools (dispatch,
	// session, schema.Pools). The object stays as it was, so a call with
	// a real context afterwards does all of it.
	ErrNilContext = errors.New("meltica: nil context.Context (pass context.Background or context.TODO)")
)

// LeakError reports the objects a pool still had checked out when Shutdown
// gave up waiting.
type LeakError struct {
	Pool        string   // pool name
	Type        string   // element type, such as *schema.WsFrame
	Outstanding int64    // objects not returned
	Stacks      []string // where each was taken; only with CaptureStacks
	Err         error    // the context's error that ended the wait
}

func (e *LeakError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pool %q: %d %s not returned at shutdown (%v)", e.Pool, e.Outstanding, e.Type, e.Err)
	for i, s := range e.Stacks {
		fmt.Fprintf(&b, "\n--- checkout %d taken at:\n%s", i+1, s)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrLeaked) true.
func (e *LeakError) Is(target error) bool { return target == ErrLeaked }

// Unwrap returns the context's error.
func (e *LeakError) Unwrap() error { return e.Err }
