package venuesim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// ReplayOptions configure a Replay server. A nil *ReplayOptions gives the
// defaults.
type ReplayOptions struct {
	// Paced sends at the recorded pace (gaps divided by Speed, timed on
	// Clock); otherwise as fast as the connection takes them. Defaults to
	// false.
	Paced bool
	Speed float64
	// MaxGap caps a recorded gap when Paced (recorder.ReplayOptions.MaxGap).
	// Defaults to 0: none.
	MaxGap time.Duration
	Clock  recorder.Clock
	// Logger gets connections served (Info) and failed sends (Warn).
	// Defaults to silent.
	Logger *slog.Logger
}

// ReplayStats counts what a Replay server did.
type ReplayStats struct {
	Connections uint64 // connections accepted
	Active      int64  // connections open now
	Sent        uint64 // frames sent, over all connections
	Completed   uint64 // connections that were sent the whole recording
}

// Replay serves a recording (package recorder) over a real WebSocket on
// loopback, so that the whole pipeline, wsclient included, runs on what a
// venue once sent. Every connection, whatever its path, is sent every
// received frame of the recording in order, text or binary as recorded;
// what the client sends is read and ignored (the recording's own answers
// to its subscriptions are in the frames). After the last frame the
// connection stays open, quiet, until the client or Close ends it: a client
// counts the frames it expects ([Replay.Frames]) to know it has them all.
//
// A Replay is safe for concurrent use. Build it with [StartReplay]; Close
// stops every goroutine it started.
type Replay struct {
	files  []string
	frames int
	header recorder.Line
	opts   ReplayOptions
	log    *slog.Logger
	srv    *httptest.Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex // closed, and wg.Add against Close's Wait
	closed bool

	cut error // the first file of the recording cut short, if any

	conns, sent, completed atomic.Uint64
	active                 atomic.Int64
}

// StartReplay checks the recording's files (read through once, to count
// its frames) and serves it on a loopback port.
func StartReplay(files []string, opts *ReplayOptions) (*Replay, error) {
	r, err := recorder.Open(files...)
	if err != nil {
		return nil, err
	}
	s := &Replay{files: append([]string(nil), files...), header: r.Header()}
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, recorder.ErrCutShort) {
			// The last part cut short (a recorder killed mid-write): its
			// whole lines are served. An earlier part cut short is not
			// ErrCutShort (lines lost mid-recording): refused below.
			s.cut = cmp.Or(s.cut, err)
			continue
		}
		if err != nil {
			r.Close()
			return nil, err
		}
		if !l.Out {
			s.frames++
		}
	}
	r.Close()
	if opts != nil {
		s.opts = *opts
	}
	s.log = s.opts.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.log.Info("replay server started", "venue", s.header.Venue, "url", s.URL(), "frames", s.frames)
	return s, nil
}

// URL is the WebSocket URL, ws://127.0.0.1:port; any path serves the same.
func (s *Replay) URL() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") }

// Cut is nil, or the error (recorder.ErrFormat wrapping
// recorder.ErrCutShort) of the recording's last file cut short, as a
// recorder killed mid-write leaves it: the whole lines before the cut are
// served all the same (Frames counts them). An earlier part cut short is
// lines lost mid-recording: StartReplay refuses it (recorder.ErrFormat).
func (s *Replay) Cut() error { return s.cut }

// Frames is how many frames each connection is sent.
func (s *Replay) Frames() int { return s.frames }

// Venue is the venue the recording's header names.
func (s *Replay) Venue() schema.Venue { return schema.Venue(s.header.Venue) }

// RecordedURL is the URL the recording was made from, per its header.
func (s *Replay) RecordedURL() string { return s.header.URL }

// Stats returns the server's counters.
func (s *Replay) Stats() ReplayStats {
	return ReplayStats{
		Connections: s.conns.Load(),
		Active:      s.active.Load(),
		Sent:        s.sent.Load(),
		Completed:   s.completed.Load(),
	}
}

// Close closes every connection and the server, and waits for every
// goroutine the server started. It is idempotent.
func (s *Replay) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.wg.Wait()
}

func (s *Replay) serve(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "replay server closed", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	// Counted before the upgrade: a client holding its 101 finds its
	// connection in Stats (counted after it, it was not yet).
	id := s.conns.Add(1)
	s.active.Add(1)
	defer s.active.Add(-1)
	ws, err := websocket.Accept(w, req, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		s.conns.Add(^uint64(0)) // not accepted after all
		return
	}
	// A reader drops what the client sends (subscriptions: the recording
	// holds the venue's answers), answers its pings, and ends ctx when the
	// connection closes. coder/websocket's CloseRead would close the
	// connection on the first subscription instead.
	ctx, cancel := context.WithCancel(s.ctx)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer cancel()
		for {
			_, r, err := ws.Reader(ctx)
			if err != nil {
				return
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
		}
	}()
	defer func() { <-readerDone }()
	defer cancel()
	s.log.Info("replay connection accepted", "venue", s.header.Venue, "connection", id)
	err = s.send(ctx, ws)
	switch {
	case err == nil:
		s.completed.Add(1)
		s.log.Info("replay connection sent the whole recording", "venue", s.header.Venue, "connection", id, "frames", s.frames)
		<-ctx.Done()
	case ctx.Err() == nil:
		s.log.Warn("replay send failed", "venue", s.header.Venue, "connection", id, "err", err)
	}
	ws.Close(websocket.StatusGoingAway, "replay server closing")
}

// send writes the recording's frames to one connection through
// recorder.Replay, which paces them.
func (s *Replay) send(ctx context.Context, ws *websocket.Conn) error {
	r, err := recorder.Open(s.files...)
	if err != nil {
		return err
	}
	defer r.Close()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sent := 0
	_, err = recorder.Replay(ctx, r, func(ctx context.Context, fr *schema.WsFrame) error {
		typ := websocket.MessageText
		if fr.Binary {
			typ = websocket.MessageBinary
		}
		if err := ws.Write(ctx, typ, fr.Data); err != nil {
			cancel(fmt.Errorf("venuesim: replay write: %w", err))
			return err
		}
		s.sent.Add(1)
		sent++
		return nil
	}, &recorder.ReplayOptions{Paced: s.opts.Paced, Speed: s.opts.Speed, MaxGap: s.opts.MaxGap, Clock: s.opts.Clock})
	if sent == s.frames {
		// Every frame was written: a client that closes as soon as it has
		// read the last one must not turn a whole replay into a failed one
		// (the close can cancel ctx before Replay sees the end of the file).
		return nil
	}
	if err != nil && context.Cause(ctx) != nil {
		return context.Cause(ctx)
	}
	return err
}
