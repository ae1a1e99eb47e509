package recorder

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/meltica/meltica/internal/safejson"
)

// zstdMagic opens every zstd frame (RFC 8878 section 3.1.1).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// MaxLine is the longest line a Reader accepts, in bytes, and the longest
// a Writer writes: a frame of wsclient's default read limit (16 MiB) fits,
// since a Recorder keeps a text message longer than MaxLine/6 (what JSON's
// \u00XX escapes could make of it) as base64, at most 4/3 of its size.
const MaxLine = 64 << 20

// Reader reads a recording: one or more files (the parts of a rotated
// recording, in order), each zstd-compressed or not — it looks at the first
// bytes. It is not safe for concurrent use. Make it with [NewReader] or
// [Open]; Close it.
type Reader struct {
	files  []string // still to open, for Open
	opened int      // files opened so far
	closer io.Closer
	zr     *zstd.Decoder
	br     *bufio.Reader
	header Line
	line   Line
	lineNo int
	name   string
	zst    bool   // the stream being read is zstd-compressed
	torn   []byte // a line the end of the stream cut short, kept for the next read
	broken bool   // the zstd stream failed (cut short, corrupt): reported once, then io.EOF
	cut    bool   // the stream ended inside a line (ErrCutShort reported)
	// afterPart: the file being opened comes after a part of a rotated
	// recording (Part > 0), whose last part may be cut in its header.
	afterPart bool
	skip      bool     // the rest of a line longer than MaxLine is still to be read past
	scratch   [25]byte // what a line's checksum is computed over
}

// NewReader reads one recording stream from r.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{name: "recording"}
	if err := rd.start(r); err != nil {
		rd.Close()
		return nil, err
	}
	return rd, nil
}

// Open reads the files of a recording in the order given (the parts of a
// rotated recording sort by name).
func Open(paths ...string) (*Reader, error) {
	if len(paths) == 0 {
		return nil, errors.New("recorder: no file to open")
	}
	rd := &Reader{files: paths}
	if err := rd.nextFile(); err != nil {
		rd.Close()
		return nil, err
	}
	return rd, nil
}

func (r *Reader) nextFile() error {
	if r.closer != nil {
		r.closer.Close()
		r.closer = nil
	}
	f, err := os.Open(r.files[0])
	if err != nil {
		return err
	}
	r.name, r.files, r.closer = r.files[0], r.files[1:], f
	prev, first, cut := r.header, r.opened == 0, r.cut
	r.opened++
	r.afterPart = !first && prev.Part > 0
	if err := r.start(f); err != nil {
		return err
	}
	if first {
		return nil
	}
	if err := r.follows(&prev, &r.header); err != nil {
		return err
	}
	if cut && prev.Part > 0 && r.header.Part > 0 {
		// A recorder killed mid-write cuts its last part only: the
		// parts before it were closed whole by their rotation. A part
		// cut short with the next part after it lost lines in the middle
		// of the recording (a flush that failed, a file truncated since):
		// corruption, ErrFormat alone, so that no reader runs on past
		// the gap as if nothing were missing.
		return fmt.Errorf("%w: %s: part %d follows part %d, which was cut short: lines lost in the middle of the recording", ErrFormat, r.name, r.header.Part, prev.Part)
	}
	return nil
}

// follows refuses, between two parts of rotated recordings (Part > 0),
// one that cannot continue the recording read so far: of another URL, or
// not the next part (Part n+1 after n: none missing, none out of
// order). Header times are not compared: they are the wall clock at each
// rotation, which a clock step may set back within one recording.
// Recordings of one file each may follow one another, and a part's venue
// is its own (Header names it).
func (r *Reader) follows(prev, next *Line) error {
	if prev.Part == 0 || next.Part == 0 {
		return nil
	}
	switch {
	case next.URL != prev.URL:
		return fmt.Errorf("%w: %s: part %d of another recording (%s after %s)", ErrFormat, r.name, next.Part, next.URL, prev.URL)
	case next.Part != prev.Part+1:
		return fmt.Errorf("%w: %s: part %d after part %d: a part is missing or out of order", ErrFormat, r.name, next.Part, prev.Part)
	}
	return nil
}

// gzipMagic starts a gzip stream (RFC 1952).
var gzipMagic = []byte{0x1f, 0x8b}

// start reads the header of a stream.
func (r *Reader) start(src io.Reader) error {
	br := bufio.NewReaderSize(src, 256<<10)
	r.zst = false
	if magic, _ := br.Peek(2); bytes.Equal(magic, gzipMagic) {
		return fmt.Errorf("%w: %s: gzip-compressed: a recording is JSON Lines, plain or zstd (gunzip it first)", ErrFormat, r.name)
	}
	if magic, _ := br.Peek(4); bytes.Equal(magic, zstdMagic) {
		r.zst = true
		if r.zr == nil {
			zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
			if err != nil {
				return err
			}
			r.zr = zr
		} else if err := r.zr.Reset(br); err != nil {
			return err
		}
		br = bufio.NewReaderSize(r.zr, 256<<10)
	}
	r.br, r.lineNo, r.torn, r.broken, r.skip, r.cut = br, 0, nil, false, false, false
	if err := r.read(&r.header); err != nil {
		if r.afterPart && len(r.files) == 0 && (errors.Is(err, io.EOF) || errors.Is(err, ErrCutShort)) {
			// The last part of a rotated recording, empty or cut inside
			// its header: a recorder killed just after its rotation. The
			// parts before it were read; nothing of this one can be.
			return fmt.Errorf("%w: %s: cut short before its header was whole: %w", ErrFormat, r.name, ErrCutShort)
		}
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: %s: empty", ErrFormat, r.name)
		}
		if errors.Is(err, ErrFormat) {
			// Another tool's file (a tardis-style line, a CSV), or one cut
			// before its header was whole: nothing in it can be read.
			why := strings.TrimPrefix(err.Error(), fmt.Sprintf("%v: %s line 1: ", ErrFormat, r.name))
			if errors.Is(err, ErrCutShort) && len(r.files) == 0 {
				// The last file, cut inside its header: a recorder killed
				// before its first flush. The cut stays matchable, as
				// ErrCutShort's doc promises; with parts after it, it is
				// lines lost mid-recording and stays ErrFormat alone.
				return fmt.Errorf("%w: %s line 1: no %s header: %w (%s)", ErrFormat, r.name, FormatName, ErrCutShort, why)
			}
			return fmt.Errorf("%w: %s line 1: no %s header (%s)", ErrFormat, r.name, FormatName, why)
		}
		return err
	}
	return r.checkHeader(&r.header)
}

// checkHeader refuses a header of another format or version: the first
// line of a stream, or of a part concatenated to it.
func (r *Reader) checkHeader(h *Line) error {
	if !h.IsHeader() || h.Format != FormatName {
		return fmt.Errorf("%w: %s line %d: no %s header", ErrFormat, r.name, r.lineNo, FormatName)
	}
	if h.Version != FormatVersion {
		return fmt.Errorf("%w: %s line %d: version %d, this reader knows %d", ErrFormat, r.name, r.lineNo, h.Version, FormatVersion)
	}
	return nil
}

// read decodes the next line into l. A line the end of the stream cuts
// before its newline is torn: ErrFormat wrapping ErrCutShort (and so io.ErrUnexpectedEOF), its
// bytes kept, so that a read once the file has grown (a recording being
// written) completes it; reads before that find io.EOF. A complete object
// without its newline is a line. Blank lines (white space only) are
// skipped.
func (r *Reader) read(l *Line) error {
	if r.broken {
		return io.EOF // reported once: a caller that goes on past errors reaches the next part
	}
	if r.skip {
		// The rest of a line longer than MaxLine: read, not kept.
		_, err := r.br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.br.ReadSlice('\n')
		}
		// At io.EOF the line's end is not written yet (a file being
		// followed): it is skipped once it is.
		r.skip = errors.Is(err, io.EOF)
		if err != nil && !errors.Is(err, io.EOF) && r.zst {
			r.broken = true
			return fmt.Errorf("%w: %s line %d: %w", ErrFormat, r.name, r.lineNo, err)
		}
		if err != nil {
			return err
		}
	}
	for {
		raw, err := r.br.ReadSlice('\n')
		if len(r.torn) > 0 && len(raw) == 0 && errors.Is(err, io.EOF) {
			// Nothing new since the torn line was reported: the end, for
			// now (a caller that goes on past errors is not held there).
			return io.EOF
		}
		if len(r.torn) > 0 || errors.Is(err, bufio.ErrBufferFull) {
			// A long line, or the rest of a torn one: gather it (rare;
			// frames are mostly small).
			buf := append(r.torn, raw...)
			r.torn = nil
			for errors.Is(err, bufio.ErrBufferFull) && len(buf) <= MaxLine {
				raw, err = r.br.ReadSlice('\n')
				buf = append(buf, raw...)
			}
			if len(buf) > MaxLine {
				// The rest of the line, if any, is skipped by the next
				// read, which a caller that goes on past errors makes.
				r.lineNo++
				r.skip = errors.Is(err, bufio.ErrBufferFull) || errors.Is(err, io.EOF)
				return fmt.Errorf("%w: %s line %d: longer than %d bytes", ErrFormat, r.name, r.lineNo, MaxLine)
			}
			raw = buf
		}
		if err != nil && !errors.Is(err, io.EOF) && r.zst {
			// A zstd stream cut short (a recorder killed mid-write) or
			// corrupt: what is left of the line cannot be trusted, nor
			// can the decoder's state after it.
			r.broken = true
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return r.cutShort(err)
			}
			return fmt.Errorf("%w: %s line %d: %w", ErrFormat, r.name, r.lineNo+1, err)
		}
		if len(raw) == 0 && err != nil {
			return err // io.EOF at the end
		}
		line := bytes.TrimSpace(raw)
		if len(line) == 0 {
			continue
		}
		*l = Line{}
		if derr := decode(line, l); derr != nil {
			if err != nil {
				// Torn by the end of the stream: keep it for the next read.
				r.torn = append([]byte(nil), raw...)
				return r.cutShort(nil)
			}
			r.lineNo++
			return fmt.Errorf("%w: %s line %d: %w", ErrFormat, r.name, r.lineNo, derr)
		}
		r.lineNo++
		if len(l.CRC) > 0 && !l.IsHeader() && (len(l.CRC) != 4 || binary.BigEndian.Uint32(l.CRC) != l.sum(&r.scratch)) {
			return fmt.Errorf("%w: %s line %d: checksum mismatch (the file was altered)", ErrFormat, r.name, r.lineNo)
		}
		return nil
	}
}

// cutShort is the error of a stream that ends inside a line (cause: the
// zstd decoder's, or nil): ErrCutShort, the end a recorder killed
// mid-write leaves. It is noted (cut) for nextFile, which refuses a next
// part of the same rotated recording after it (see follows).
func (r *Reader) cutShort(cause error) error {
	r.cut = true
	if cause != nil {
		return fmt.Errorf("%w: %s line %d: %w (%w)", ErrFormat, r.name, r.lineNo+1, ErrCutShort, cause)
	}
	return fmt.Errorf("%w: %s line %d: %w", ErrFormat, r.name, r.lineNo+1, ErrCutShort)
}

// decode unmarshals one line; a panic inside the decoder (goccy/go-json
// v0.12.0 is a fresh rewrite) is a bad line (a *safejson.PanicError), not
// a crash.
func decode(raw []byte, l *Line) error {
	return safejson.Unmarshal(raw, l)
}

// Header returns the header of the file being read.
func (r *Reader) Header() Line { return r.header }

// Next returns the next frame line, going on to the next file at the end of
// one, and io.EOF after the last. A line cut short by the end of the file
// is ErrFormat wrapping ErrCutShort (io.ErrUnexpectedEOF), once: later calls find io.EOF
// (going on to the next file, if any) until the file grows (it was still
// being written), and then return the line whole. A zstd-compressed file
// cut short or corrupt is an ErrFormat once too; later calls go on to the
// next file (a compressed stream cannot be resumed). A line longer than
// [MaxLine] is an ErrFormat, read no further: the next call returns the
// line after it. The line is reused by the next call: the caller must not
// keep it.
func (r *Reader) Next() (*Line, error) {
	for {
		err := r.read(&r.line)
		if errors.Is(err, io.EOF) {
			if len(r.files) == 0 {
				return nil, io.EOF
			}
			if err := r.nextFile(); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if r.line.IsHeader() {
			// Concatenated parts: checked as the first, and named by
			// Header from here on.
			if err := r.checkHeader(&r.line); err != nil {
				return nil, err
			}
			if err := r.follows(&r.header, &r.line); err != nil {
				return nil, err
			}
			r.header = r.line
			continue
		}
		return &r.line, nil
	}
}

// Close releases the file and the decompressor. It is idempotent.
func (r *Reader) Close() error {
	var err error
	if r.closer != nil {
		err = r.closer.Close()
		r.closer = nil
	}
	if r.zr != nil {
		r.zr.Close()
		r.zr = nil
	}
	return err
}
