// Package cryptofeed reads the session recordings of the public project
// bmoscon/cryptofeed (its sample_data folder, as copied to ../shared/recordings)
// into recorder lines. It is a test and tooling helper, not public API.
//
// The format, one event per line:
//
//	URL <-> TIMESTAMP           a WebSocket connection to URL opened
//	URL <- TIMESTAMP: MESSAGE   MESSAGE was sent to the venue
//	TIMESTAMP: MESSAGE          MESSAGE (one WebSocket frame) was received
//	URL -> TIMESTAMP: BODY      a REST request to URL answered BODY
//
// TIMESTAMP is Unix seconds with a fraction; a message is everything after
// the first ": ". REST answers are skipped: they are not WebSocket frames.
// A file may open with "configuration: DATA", the recorder's settings
// (cryptofeed/raw_data_collection.py, set_header).
package cryptofeed

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"github.com/meltica/meltica/internal/safejson"
	"github.com/meltica/meltica/recorder"
)

// ErrFormat is returned for a line that is none of the four kinds.
var ErrFormat = errors.New("cryptofeed: line not in the sample_data format")

// Session is what Read found besides the frames.
type Session struct {
	URL         string // URL of the first WebSocket connection
	Config      string // the recorder's "configuration: " line, when the file has one
	Connections int    // connections opened (a file that begins mid-connection counts it)
	In, Out     int    // frames received and messages sent
	REST        int    // REST answers skipped
}

// ReadFile reads a recording file (gzipped when its name ends in .gz).
func ReadFile(path string, fn func(*Session, *recorder.Line) error) (Session, error) {
	f, err := os.Open(path)
	if err != nil {
		return Session{}, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return Session{}, err
		}
		defer zr.Close()
		r = zr
	}
	return Read(r, fn)
}

var (
	connMark = []byte(" <-> ")
	restMark = []byte(" -> ")
	sentMark = []byte(" <- ")
	sep      = []byte(": ")
	config   = []byte("configuration: ")
)

// Read calls fn for every WebSocket frame and sent message of the session,
// in order, with Conn numbering the connections from 1 and Seq the frames
// received on each from 1. The frames a file has before its first
// connection line (a file cryptofeed rotated begins mid-connection) are
// connection 1's. A "configuration: " line (cryptofeed's
// AsyncFileCallback.set_header) is kept in Session.Config; a line longer
// than recorder.MaxLine is ErrFormat. The line passed to fn is reused: fn
// must not keep it.
func Read(r io.Reader, fn func(*Session, *recorder.Line) error) (Session, error) {
	var s Session
	br := bufio.NewReaderSize(r, 1<<20)
	var line recorder.Line
	var seq uint64
	var buf []byte
	for n := 1; ; n++ {
		raw, err := readLine(br, &buf)
		last := errors.Is(err, errNoNewline)
		if last {
			err = nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return s, nil
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				return s, fmt.Errorf("%w: line %d: longer than %d bytes", ErrFormat, n, recorder.MaxLine)
			}
			return s, err
		}
		raw = bytes.TrimRight(raw, "\r\n")
		if len(raw) == 0 {
			continue
		}
		if last {
			// Every line of cryptofeed's ends in a newline: a last one
			// without, that is no whole line, was cut by the end of the
			// file (its recorder killed mid-write).
			cut, err := torn(raw)
			if err != nil {
				return s, fmt.Errorf("cryptofeed: line %d: %w", n, err)
			}
			if cut {
				return s, fmt.Errorf("cryptofeed: line %d: %w", n, recorder.ErrCutShort)
			}
		}
		line = recorder.Line{}
		head := raw
		if i := bytes.Index(raw, sep); i >= 0 {
			head = raw[:i] // the direction markers are here: a message may hold " -> "
		}
		switch {
		case bytes.HasPrefix(raw, config):
			s.Config = string(raw[len(config):])
			continue
		case bytes.Contains(head, connMark):
			u, ts, _ := bytes.Cut(raw, connMark)
			if _, err := ParseTime(ts); err != nil {
				return s, fmt.Errorf("line %d: %w", n, err)
			}
			if s.URL == "" {
				s.URL = string(u)
			}
			if s.Connections == 0 && (s.In > 0 || s.Out > 0) {
				s.Connections++ // the one the file began in
			}
			s.Connections++
			seq = 0
			continue
		case bytes.Contains(head, restMark):
			_, rest, _ := bytes.Cut(raw, restMark)
			if _, _, err := timed(rest, n); err != nil {
				return s, err
			}
			s.REST++
			continue
		case bytes.Contains(head, sentMark):
			_, rest, _ := bytes.Cut(raw, sentMark)
			ts, msg, err := timed(rest, n)
			if err != nil {
				return s, err
			}
			line.Time, line.Out = ts, true
			setMessage(&line, msg)
			s.Out++
		default:
			ts, msg, err := timed(raw, n)
			if err != nil {
				return s, err
			}
			seq++
			line.Time, line.Seq = ts, seq
			setMessage(&line, msg)
			s.In++
		}
		line.Conn = uint64(max(s.Connections, 1))
		if err := fn(&s, &line); err != nil {
			return s, err
		}
	}
}

// torn reports whether a line is not whole: a message (after the first
// ": ") that is no whole JSON value, or a connection line whose
// timestamp does not parse. A panic inside the JSON scanner on the
// recorded message is returned as a *safejson.PanicError
// (safejson.ErrPanic), never raised.
func torn(raw []byte) (bool, error) {
	if bytes.HasPrefix(raw, config) {
		return false, nil
	}
	if _, msg, ok := bytes.Cut(raw, sep); ok {
		valid, err := wholeJSON(msg)
		return !valid, err
	}
	_, ts, ok := bytes.Cut(raw, connMark)
	if !ok {
		return true, nil
	}
	_, err := ParseTime(ts)
	return err != nil, nil
}

// wholeJSON reports whether msg is one whole JSON value (goccy's
// json.Valid, a scan that decodes nothing), under the guard every goccy
// call on outside input has (internal/safejson).
func wholeJSON(msg []byte) (valid bool, err error) {
	defer safejson.Recover(&err)
	return json.Valid(msg), nil
}

// errNoNewline is readLine's word for a last line without its newline.
var errNoNewline = errors.New("cryptofeed: last line without a newline")

// readLine reads one line into *buf, at most recorder.MaxLine bytes of it
// (bufio.ErrBufferFull past that); io.EOF once nothing is left, and
// errNoNewline with a last line that lacks its newline.
func readLine(br *bufio.Reader, buf *[]byte) ([]byte, error) {
	raw, err := br.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		if len(raw) > 0 && errors.Is(err, io.EOF) {
			err = errNoNewline
		}
		return raw, err
	}
	*buf = append((*buf)[:0], raw...)
	for errors.Is(err, bufio.ErrBufferFull) {
		if len(*buf) > recorder.MaxLine {
			return nil, bufio.ErrBufferFull
		}
		raw, err = br.ReadSlice('\n')
		*buf = append(*buf, raw...)
	}
	if errors.Is(err, io.EOF) {
		err = errNoNewline
	}
	if len(*buf) > recorder.MaxLine {
		return nil, bufio.ErrBufferFull
	}
	return *buf, err
}

// timed splits "TIMESTAMP: MESSAGE" of line n.
func timed(b []byte, n int) (int64, []byte, error) {
	ts, msg, ok := bytes.Cut(b, sep)
	if !ok {
		return 0, nil, fmt.Errorf("%w: line %d", ErrFormat, n)
	}
	t, err := ParseTime(ts)
	if err != nil {
		return 0, nil, fmt.Errorf("line %d: %w", n, err)
	}
	return t, msg, nil
}

// setMessage keeps msg as text when it is UTF-8, and otherwise as binary:
// the format does not say a frame's kind, and a text frame is UTF-8 by
// RFC 6455 section 5.6, so served as text it would be dropped as invalid.
func setMessage(l *recorder.Line, msg []byte) {
	if utf8.Valid(msg) {
		l.Text = string(msg)
		return
	}
	l.Bin, l.Binary = append([]byte(nil), msg...), true
}

// ParseTime turns "1618678132.8253062" (Unix seconds with up to nine
// decimals; a point has digits on both sides, as Python's repr of a float)
// into Unix nanoseconds, exactly: no float on the way.
func ParseTime(ts []byte) (int64, error) {
	sec, frac, point := bytes.Cut(ts, []byte("."))
	if len(sec) == 0 || len(frac) > 9 || (point && len(frac) == 0) {
		return 0, fmt.Errorf("%w: timestamp %q", ErrFormat, ts)
	}
	var ns int64
	var ok bool
	for _, part := range [][]byte{sec, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%w: timestamp %q", ErrFormat, ts)
			}
			if ns, ok = mulAdd(ns, int64(c-'0')); !ok {
				return 0, fmt.Errorf("%w: timestamp %q out of range", ErrFormat, ts)
			}
		}
	}
	for range 9 - len(frac) {
		if ns, ok = mulAdd(ns, 0); !ok {
			return 0, fmt.Errorf("%w: timestamp %q out of range", ErrFormat, ts)
		}
	}
	return ns, nil
}

// Convert reads a sample_data file and writes it to dst as a recording of
// venue, zstd-compressed or not.
func Convert(src string, dst io.Writer, venue string, compress bool) (Session, error) {
	w, err := recorder.NewWriter(dst, compress)
	if err != nil {
		return Session{}, err
	}
	headerDone := false
	s, err := ReadFile(src, func(s *Session, l *recorder.Line) error {
		if !headerDone {
			headerDone = true
			if err := w.WriteHeader(recorder.Line{Venue: venue, URL: s.URL, Time: l.Time}); err != nil { // a file of its own, not a rotated part
				return err
			}
		}
		return w.Write(l)
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return s, err
}

// mulAdd is n*10+d, and false when it would overflow an int64.
func mulAdd(n, d int64) (int64, bool) {
	if n > (math.MaxInt64-d)/10 {
		return 0, false
	}
	return n*10 + d, true
}
