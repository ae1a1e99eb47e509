package recorder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/meltica/meltica/schema"
)

// keepFrameBytes is the most a queue slot keeps after its frame is
// written (or FrameBytes when larger): a larger buffer is given back.
const keepFrameBytes = 64 << 10

// Defaults of Options.
const (
	DefaultQueue         = 1024
	DefaultFrameBytes    = 4 << 10
	DefaultFlushInterval = time.Second
)

// Options configure a Recorder. A nil *Options gives the defaults; New
// copies the struct.
type Options struct {
	// Venue and URL go into every file's header. Defaults to empty; a
	// replay then needs ReplayOptions.Venue.
	Venue schema.Venue
	URL   string
	// Compress writes zstd (github.com/klauspost/compress/zstd). Name the
	// file .jsonl.zst. Defaults to false: plain JSON Lines.
	Compress bool
	// MaxFileBytes rotates the recording: when a file holds that many bytes
	// of lines (before compression), the next line starts a new file. The
	// files are then named path with -000001, -000002 … before the
	// extension. A part that cannot be opened costs the frames that come
	// meanwhile (Stats.WriteErrors) and is tried again by the next frame,
	// except a part whose name is already taken: that ends the recording,
	// once, with ErrPartTaken (Close returns it). Defaults to 0: one file,
	// named path.
	MaxFileBytes int64
	// Queue is how many frames may wait for the disk. When it is full a
	// frame is dropped and counted (Stats.Dropped): the reader never waits
	// for the disk. Defaults to DefaultQueue (1024).
	Queue int
	// FrameBytes is the buffer each queue slot starts with; a slot grows to
	// the frame it carries and keeps up to max(FrameBytes, 64 KiB) of it
	// once the frame is written (a larger buffer is given back and the slot
	// starts again at FrameBytes), so memory is Queue × that plus the large
	// frames waiting for the disk. Frames up to that size are copied
	// without allocating. Defaults to 4 KiB.
	FrameBytes int
	// FlushInterval is how often buffered lines are pushed to the file.
	// Defaults to 1 s.
	FlushInterval time.Duration
	// Create opens a recording file. Defaults to creating a new file
	// (os.OpenFile with O_EXCL): an existing file is never written over,
	// and New refuses a path where a recording, or a part of a rotated
	// one, already is (an error matching fs.ErrExist), so that two
	// recorders never share a file and no earlier recording's parts are
	// replayed as this one's. A file with a Sync method (an *os.File) is
	// synced before it is closed, and an *os.File's directory after that,
	// so that its name is durable too.
	Create func(name string) (io.WriteCloser, error)
	// Logger gets the recorder's state changes at Info (recording started,
	// file rotated, closed) and its faults at Warn (frames dropped, a
	// write failed), once per episode, never per frame. Defaults to silent.
	Logger *slog.Logger
}

// Stats counts what a Recorder did.
type Stats struct {
	Frames      uint64 // frames queued (received and sent messages)
	Bytes       uint64 // their bytes
	Dropped     uint64 // frames dropped because the queue was full
	Written     uint64 // frames flushed to a file (counted at each flush, so up to FlushInterval late)
	Files       int    // files opened
	WriteErrors uint64 // frames lost to a failed write or flush (some may have partly reached the file), a file that could not be opened, or a line longer than MaxLine
}

type slot struct {
	conn, seq uint64
	at        int64
	binary    bool
	out       bool
	data      []byte
}

// Recorder writes raw WebSocket messages, with their receive time and
// connection id, to a recording file (see [Line] for the format), on a
// goroutine of its own. [Recorder.Record] copies a frame into a preallocated
// slot of a bounded queue and returns: it never waits for the disk, drops
// and counts a frame when the queue is full, and allocates nothing in
// steady state.
//
// A Recorder is safe for concurrent use (several clients may share one).
// Make it with [New]; [Recorder.Close] it, which waits for its goroutine.
type Recorder struct {
	opts  Options
	path  string
	log   *slog.Logger
	slots []slot
	free  chan int32
	full  chan int32
	done  chan struct{}

	mu     sync.RWMutex // closed; held shared by Record while it queues
	closed bool

	frames, bytes, dropped, written, writeErrs atomic.Uint64

	// Owned by the writer goroutine (files also read by Files, under fmu).
	fmu     sync.Mutex
	files   []string
	file    io.WriteCloser
	w       *Writer
	line    Line
	err     error
	logged  uint64 // drops already reported
	pending uint64 // frames in the Writer's buffers, not yet flushed
	ended   bool   // a rotation found its name taken: nothing more is written
	endErr  atomic.Pointer[error]
}

// New opens the first file of a recording at path and starts the writer
// goroutine. The directory must exist.
func New(path string, opts *Options) (*Recorder, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.FrameBytes <= 0 {
		o.FrameBytes = DefaultFrameBytes
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.Create == nil {
		if o.MaxFileBytes > 0 {
			if err := noParts(path); err != nil {
				return nil, err
			}
		}
		o.Create = createNew
	}
	r := &Recorder{
		opts:  o,
		path:  path,
		log:   o.Logger,
		slots: make([]slot, o.Queue),
		free:  make(chan int32, o.Queue),
		full:  make(chan int32, o.Queue),
		done:  make(chan struct{}),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	for i := range r.slots {
		r.slots[i].data = make([]byte, 0, o.FrameBytes)
		r.free <- int32(i)
	}
	if err := r.open(); err != nil {
		return nil, err
	}
	r.log.Info("recording started", "venue", string(o.Venue), "file", r.files[0], "compress", o.Compress)
	go r.run()
	return r, nil
}

// Record queues a copy of f's message. It returns false when the frame was
// dropped (queue full) or the recorder is closed. f stays the caller's.
func (r *Recorder) Record(f *schema.WsFrame) bool {
	return r.queue(f.ConnID, f.Seq, f.ReceivedAt, f.Binary, false, f.Data)
}

// RecordSent queues a message the host sent on connection conn at
// receivedAt (Unix ns), such as a subscription, so the recording says what
// was asked. Replays skip it.
func (r *Recorder) RecordSent(conn uint64, at int64, msg []byte) bool {
	return r.queue(conn, 0, at, false, true, msg)
}

func (r *Recorder) queue(conn, seq uint64, at int64, binary, out bool, data []byte) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return false
	}
	select {
	case i := <-r.free:
		s := &r.slots[i]
		s.conn, s.seq, s.at, s.binary, s.out = conn, seq, at, binary, out
		s.data = append(s.data[:0], data...)
		r.frames.Add(1)
		r.bytes.Add(uint64(len(data)))
		r.full <- i // never blocks: full has room for every slot
		return true
	default:
		r.dropped.Add(1)
		return false
	}
}

// Tap returns a handler that records each frame, then calls next (when not
// nil) and returns its error: put it between a wsclient.Client and the venue
// parser to record what the parser is given.
//
// The handler types are spelled out rather than named wsclient.Handler so
// that this package does not depend on wsclient: both directions assign.
func (r *Recorder) Tap(next func(context.Context, *schema.WsFrame) error) func(context.Context, *schema.WsFrame) error {
	return func(ctx context.Context, f *schema.WsFrame) error {
		r.Record(f)
		if next == nil {
			return nil
		}
		return next(ctx, f)
	}
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() Stats {
	r.fmu.Lock()
	files := len(r.files)
	r.fmu.Unlock()
	return Stats{
		Frames:      r.frames.Load(),
		Bytes:       r.bytes.Load(),
		Dropped:     r.dropped.Load(),
		Written:     r.written.Load(),
		Files:       files,
		WriteErrors: r.writeErrs.Load(),
	}
}

// Err returns, without waiting, the error that ended the recording
// before Close (ErrPartTaken or ErrWriteFailed: no later frame is
// written), or nil while it goes on. A host that records for a purpose stops on it rather than run
// on unrecorded. Safe for concurrent use; it allocates nothing.
func (r *Recorder) Err() error {
	if p := r.endErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Files returns the names of the files written so far, in order: what
// [Open] takes to replay the recording.
func (r *Recorder) Files() []string {
	r.fmu.Lock()
	defer r.fmu.Unlock()
	return append([]string(nil), r.files...)
}

// Close stops taking frames, writes every queued one, syncs the file to
// disk (fsync), closes it and waits for the writer goroutine. It returns the first write error, and
// ErrClosed when called again.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	r.closed = true
	r.mu.Unlock()
	close(r.full)
	<-r.done
	st := r.Stats()
	r.log.Info("recording closed", "venue", string(r.opts.Venue), "frames", st.Written, "dropped", st.Dropped, "files", st.Files)
	return r.err
}

// run is the writer goroutine.
func (r *Recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(r.opts.FlushInterval)
	defer tick.Stop()
	dirty := false
	for {
		select {
		case i, ok := <-r.full:
			if !ok {
				r.noteDrops()
				r.fail(r.closeFile())
				return
			}
			r.write(&r.slots[i])
			if s := &r.slots[i]; cap(s.data) > max(r.opts.FrameBytes, keepFrameBytes) {
				// A large frame's buffer goes back to the GC: slots keep
				// FrameBytes, not the largest frame each ever carried.
				s.data = make([]byte, 0, r.opts.FrameBytes)
			}
			r.free <- i
			dirty = true
		case <-tick.C:
			r.noteDrops()
			if dirty && r.w != nil {
				err := r.w.Flush()
				r.settle(err)
				if err != nil {
					r.end(err)
				}
				dirty = false
			}
		}
	}
}

// maxText is the longest message written as Text: escaped as JSON (at most
// 6 bytes a byte, \u00XX), its line still fits in MaxLine. Longer ones go
// as base64 (Bin), which a Reader gives back the same.
const maxText = (MaxLine - 4<<10) / 6

// write encodes one slot; the text of a valid UTF-8 text message is
// encoded from the slot's bytes without a copy.
func (r *Recorder) write(s *slot) {
	l := &r.line
	*l = Line{Time: s.at, Conn: s.conn, Seq: s.seq, Out: s.out, Binary: s.binary}
	if !s.binary && len(s.data) <= maxText && utf8.Valid(s.data) {
		if len(s.data) > 0 {
			l.Text = unsafe.String(&s.data[0], len(s.data))
		}
	} else {
		l.Bin = s.data
	}
	// Nothing keeps pointing into the slot once the line is written.
	defer func() { l.Text, l.Bin = "", nil }()
	// A rotation that failed to open the next file left none: try again,
	// unless its name is taken (ErrPartTaken: the recording ended there).
	if r.w == nil {
		if r.ended {
			r.writeErrs.Add(1)
			return
		}
		if err := r.rotate(); err != nil {
			r.writeErrs.Add(1)
			return
		}
	}
	if err := r.w.Write(l); err != nil {
		r.writeErrs.Add(1)
		if errors.Is(err, ErrLineTooLong) {
			r.fail(err) // this line only: the file is sound
			return
		}
		// The buffered lines went down with the file (or part of them:
		// the reader tells which).
		r.settle(err)
		r.end(err)
		return
	}
	r.pending++
	if r.opts.MaxFileBytes > 0 && r.w.Written() >= r.opts.MaxFileBytes {
		if err := r.closeFile(); err != nil {
			// The part may end torn: no part may follow it.
			r.end(err)
			return
		}
		if r.rotate() == nil {
			r.log.Info("recording file rotated", "venue", string(r.opts.Venue), "file", r.Files()[len(r.Files())-1])
		}
	}
}

// rotate opens the next part. A name already taken ends the recording
// (ErrPartTaken); any other failure is kept and tried again by the next
// frame.
func (r *Recorder) rotate() error {
	err := r.open()
	if errors.Is(err, fs.ErrExist) {
		r.ended = true
		err = fmt.Errorf("%w: %w", ErrPartTaken, err)
		r.endErr.Store(&err)
	}
	r.fail(err)
	return err
}

// end ends the recording on a failed write or flush (ErrWriteFailed):
// the writer keeps the error, so nothing after it would reach the file.
// The file is closed (what it holds stays readable up to the break) and
// every later frame is counted lost.
func (r *Recorder) end(cause error) {
	r.ended = true
	err := fmt.Errorf("%w: %w", ErrWriteFailed, cause)
	r.endErr.Store(&err)
	r.fail(err)
	if r.w != nil {
		_ = r.closeFile() // fails again: the writer's error, already kept
	}
}

// noteDrops reports drops since the last report, once per episode.
func (r *Recorder) noteDrops() {
	if d := r.dropped.Load(); d > r.logged {
		r.log.Warn("recorder dropped frames: the disk is slower than the stream", "venue", string(r.opts.Venue), "dropped", d-r.logged, "total", d)
		r.logged = d
	}
}

// fail keeps the first error and reports it.
func (r *Recorder) fail(err error) {
	if err == nil {
		return
	}
	if r.err == nil {
		r.log.Warn("recording write failed", "venue", string(r.opts.Venue), "err", err)
		r.err = err
	}
}

// open starts the next file and writes its header.
func (r *Recorder) open() error {
	r.fmu.Lock()
	part := len(r.files) + 1
	r.fmu.Unlock()
	name := partName(r.path, part, r.opts.MaxFileBytes > 0)
	f, err := r.opts.Create(name)
	if err != nil {
		return fmt.Errorf("recorder: %w", err)
	}
	w, err := NewWriter(f, r.opts.Compress)
	if err == nil {
		err = w.WriteHeader(Line{Venue: string(r.opts.Venue), URL: r.opts.URL, Part: part, Time: time.Now().UnixNano()})
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("recorder: %w", err)
	}
	r.file, r.w = f, w
	r.fmu.Lock()
	r.files = append(r.files, name)
	r.fmu.Unlock()
	return nil
}

func (r *Recorder) closeFile() error {
	if r.w == nil {
		return nil
	}
	err := r.w.Close()
	if s, ok := r.file.(interface{ Sync() error }); ok && err == nil {
		// Durable once closed: what Close counts written survives a
		// crash of the machine, not only of the process.
		err = s.Sync()
	}
	if f, ok := r.file.(*os.File); ok && err == nil {
		// And so does the file's name: a new file's directory entry is
		// not made durable by the file's own fsync (fsync(2)).
		err = syncDir(filepath.Dir(f.Name()))
	}
	r.settle(err)
	err = errors.Join(err, r.file.Close())
	r.w, r.file = nil, nil
	return err
}

// syncDir fsyncs a directory (a variable: tests watch it). Windows has
// no such call (a directory handle cannot be flushed): nothing to do.
var syncDir = func(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// settle counts the frames buffered since the last flush as written, or,
// when the flush failed, as lost.
func (r *Recorder) settle(err error) {
	if err == nil {
		r.written.Add(r.pending)
	} else {
		r.writeErrs.Add(r.pending)
	}
	r.pending = 0
}

// createNew creates a file that does not exist yet.
func createNew(name string) (io.WriteCloser, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
}

// noParts refuses a rotating recording at path when a part of an earlier
// one (any part number, not only the first) is in the directory.
func noParts(path string) error {
	dir, base := filepath.Split(path)
	stem, ext := splitExt(base)
	entries, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		return nil // the first Create reports the directory's fault
	}
	for _, e := range entries {
		n := e.Name()
		num, prefixed := strings.CutPrefix(n, stem+"-")
		num, suffixed := strings.CutSuffix(num, ext)
		if !prefixed || !suffixed || len(num) < 6 || strings.Trim(num, "0123456789") != "" {
			continue
		}
		return fmt.Errorf("recorder: %s: %w (a part of an earlier recording; remove it or record under another name)", filepath.Join(dir, n), fs.ErrExist)
	}
	return nil
}

// splitExt splits a file name at its first dot: session.jsonl.zst is
// session and .jsonl.zst.
func splitExt(base string) (stem, ext string) {
	if i := strings.IndexByte(base, '.'); i > 0 {
		return base[:i], base[i:]
	}
	return base, ""
}

// partName is path itself for a recording of one file, and otherwise path
// with -NNNNNN before its extension (the text from the first dot of the
// file name: session.jsonl.zst → session-000001.jsonl.zst).
// NextPart returns the name a Recorder gives the part after part n of a
// rotating recording, whose file is name (rec-000001.jsonl.zst gives
// rec-000002.jsonl.zst), or "" when name is not one it would give part n
// (a single-file recording, a part renamed since). Tools use it to tell a
// recording given without its last parts.
func NextPart(name string, n int) string {
	if n <= 0 {
		return ""
	}
	dir, base := filepath.Split(name)
	stem, ext := splitExt(base)
	suffix := fmt.Sprintf("-%06d", n)
	if !strings.HasSuffix(stem, suffix) {
		return ""
	}
	return partName(dir+strings.TrimSuffix(stem, suffix)+ext, n+1, true)
}

func partName(path string, part int, rotating bool) string {
	if !rotating {
		return path
	}
	dir, base := filepath.Split(path)
	stem, ext := splitExt(base)
	return fmt.Sprintf("%s%s-%06d%s", dir, stem, part, ext)
}
