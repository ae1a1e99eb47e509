// Package recorder records the raw messages of venue WebSocket connections
// to files and plays them back through the same handlers, so that what a
// venue sent when a strategy misbehaved can be run again, offline, as often
// as needed.
//
// # Recording
//
// A [Recorder] is a frame tap: [Recorder.Tap] wraps the wsclient.Handler
// that a wsclient.Client calls (usually a venue parser's HandleFrame), and
// every frame is copied, with its receive time (Unix ns), connection id and
// sequence, into a preallocated slot of a bounded queue before the parser
// sees it. The client's frame is owned by its reader only while the handler
// runs, hence the copy; the slot keeps its capacity (up to 64 KiB or
// Options.FrameBytes: a larger frame's buffer is given back once written,
// so a few big snapshots do not leave every slot that large), so in steady
// state recording a frame allocates nothing (TestRecordZeroAllocs) and
// costs a copy and two channel operations. One goroutine of the recorder's own
// encodes the queued frames and writes them. The reader never waits for the
// disk: when the queue is full the frame is dropped from the recording
// (never from the pipeline) and counted in Stats.Dropped, and the
// recorder's logger says so once per episode.
//
// # Format
//
// A recording is JSON Lines ([Line]): a header line naming the format, the
// venue and the URL, then one line per message, encoded with goccy/go-json
// into a reused buffer. Text messages that are valid UTF-8 are JSON strings
// and come back byte for byte; anything else is base64. Every frame line
// carries a CRC-32C of its fields ([Line.Sum]) that a Reader verifies: a
// byte altered on disk is an ErrFormat, never a different frame (zstd's own
// checksum covers a whole stream and is checked only at its end). Files may be
// zstd-compressed (Options.Compress, github.com/klauspost/compress) and
// rotate by size (Options.MaxFileBytes): session.jsonl.zst becomes
// session-000001.jsonl.zst, session-000002.jsonl.zst, … each with its own
// header. [Open] reads the parts in order, compressed or not (it looks at
// the first bytes), and refuses a part that does not follow the one
// before (Part n+1 of the same URL, opened no earlier): a part missing,
// out of order or of another recording is an ErrFormat, not a replay that
// runs the streams backwards or across a hole.
//
// # Replaying
//
// [Replay] hands every recorded frame, in order, to a wsclient.Handler with
// a schema.WsFrame filled as the client fills it — venue, connection id,
// sequence, the recorded receive time — as fast as the handler takes them,
// or at the recorded pace (ReplayOptions.Paced, Speed) timed on an
// injectable clock. The same parser thus gives the same canonical events as
// in the live run (TestRecordReplayRoundTrip). To run the whole pipeline,
// wsclient included, venuesim.StartReplay serves a recording over a real
// WebSocket on loopback.
//
// # Lifecycle
//
// New opens the first file (a new one: a recording, or a part of a
// rotated one, already at the name is refused with an error matching
// fs.ErrExist, never written over; a later part's name found taken at a
// rotation ends the recording there with ErrPartTaken, which Err tells at
// once, rather than write it elsewhere and interleave two recordings; a write
// or flush that fails ends it too, with ErrWriteFailed, since the file's
// buffered writer keeps its first error and the file now ends torn) and
// starts the writer
// goroutine; Close drains
// the queue, syncs the file and its directory to disk (as it does each
// rotated file when closing it), closes it and waits for the goroutine. Between flushes
// (Options.FlushInterval) lines wait in memory: a process killed then loses
// them, and its file ends on a torn line or a cut zstd frame, which a
// Reader reports (ErrFormat) after every whole line. A Reader may follow a
// plain file still being written: lines appended after io.EOF come on
// later calls, and a torn line (ErrFormat wrapping ErrCutShort) is
// kept and completed by them. A Recorder is safe
// for concurrent use: several clients may share one. Readers and Replay are
// used by one goroutine at a time and start none.
package recorder
