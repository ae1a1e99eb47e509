package recorder

import (
	"errors"
	"fmt"
	"io"
)

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

// ErrPartTaken is the error (it matches fs.ErrExist too) that ends a
// rotating recording whose next part's name is already taken: another
// recorder at the same path, or a file put there. The name will not free
// itself, and writing the part under another name would interleave two
// recordings, so the recording stops there, once: every later frame is
// counted in Stats.WriteErrors and Close returns this error.
var ErrPartTaken = errors.New("recorder: the next part's name is taken")

// ErrWriteFailed is the error (it wraps the file's, e.g. ENOSPC) that ends
// a recording whose file failed a write or a flush: the buffered writer
// keeps its first error, every later frame would be lost with it, and the
// file now ends on a torn line that no later part may follow. The
// recording stops there, once: the file is closed, [Recorder.Err] returns
// this error at once, every later frame is counted in Stats.WriteErrors
// and Close returns it. What reached the file reads back up to the break
// (a Reader reports the torn end as ErrCutShort).
var ErrWriteFailed = errors.New("recorder: a write failed; the recording ended")

// ErrCutShort is wrapped, with ErrFormat, by a Reader's error for a file
// that ends inside a line or inside a zstd frame: the end a recorder
// killed mid-write leaves. It matches io.ErrUnexpectedEOF too. A whole
// line that does not decode is ErrFormat alone, never this: the lines
// before a cut are sound, the rest of a file with a bad line may not be.
var ErrCutShort = fmt.Errorf("recorder: cut short: %w", io.ErrUnexpectedEOF)
