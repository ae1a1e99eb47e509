package recorder

import "errors"

var (
	// ErrFormat is returned by a Reader for a file that is not a recording
	// of this format, or a line it cannot decode.
	ErrFormat = errors.New("recorder: not a recording")
	// ErrClosed is returned by a Recorder's methods after Close.
	ErrClosed = errors.New("recorder: closed")
)
