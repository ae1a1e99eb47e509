package natsbridge

import (
	"errors"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
)

var (
	// ErrClosed is returned by a Publisher or Consumer method after Close.
	ErrClosed = errors.New("natsbridge: closed")
	// ErrExecPending is matched by the error Publisher.Close and
	// Publisher.Flush return when execution reports were still waiting for
	// the stream's acknowledgement as their context ended.
	ErrExecPending = errors.New("natsbridge: execution reports not yet stored")
	// ErrWireVersion is matched (errors.Is) by the error of a message on
	// the bridge's subjects whose first byte is no layout the Consumer
	// reads (see Encoding): a Publisher newer than it, or another
	// producer's message (JSON text, say). ErrMalformed is matched by that
	// of a message of a known layout it cannot decode: cut short, trailing
	// bytes, an unknown event type, a decimal out of range. Either is
	// dropped and counted (ConsumerStats.Malformed), and logged at Warn
	// with the error under "error"; a durable one is terminated and
	// announced by a gap marker whose Control.Reason holds the error's
	// text.
	ErrWireVersion = wire.ErrVersion
	ErrMalformed   = wire.ErrMalformed
)
