package recorder

import "errors"

var (
	// ErrFormat is returned by a Reader for a file that is not a recording
	// of this format, or a line it cannot decode.
	ErrFormat = errors.New("recorder: not a recording")
	// ErrLineTooLong is returned by [Writer.Write] for a line longer than
	// [MaxLine]: a Reader would refuse it, so it is not written (the
	// Recorder counts the frame in Stats.WriteErrors).
	ErrLineTooLong = errors.New("recorder: line longer than MaxLine")
	// ErrClosed is returned by a Recorder's methods after Close.
	ErrClosed = errors.New("recorder: closed")
)
