package natsbridge

import "errors"

var (
	// ErrClosed is returned by a Publisher or Consumer method after Close.
	ErrClosed = errors.New("natsbridge: closed")
	// ErrExecPending is matched by the error Publisher.Close and
	// Publisher.Flush return when execution reports were still waiting for
	// the stream's acknowledgement as their context ended.
	ErrExecPending = errors.New("natsbridge: execution reports not yet stored")
)
