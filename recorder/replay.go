package recorder

import (
	"cmp"
	"context"
	"errors"
	"io"
	"math"
	"time"

	"github.com/meltica/meltica/internal/realclock"
	"github.com/meltica/meltica/schema"
)

// ReplayOptions configure [Replay]. A nil *ReplayOptions gives the defaults.
type ReplayOptions struct {
	// Venue is stamped on every frame as Provider. Defaults to the
	// recording header's Venue.
	Venue schema.Venue
	// Paced replays at the recorded pace: each frame is handed over when
	// the recorded time since the first frame, divided by Speed, has
	// passed on Clock. The receive times are the wall clock's, which may
	// have been stepped while recording. One connection's frames are
	// stamped in order by its one reader, so a frame behind the frame
	// before it on the same connection (Line.Conn) is a step of the clock
	// back, and the pace goes on from it (the frames after a step keep
	// their pace rather than all go at once). A frame behind the latest
	// time seen but not behind its own connection's last (connections
	// sharing a recorder interleave, one reader late by any amount) goes
	// at once and moves nothing. Defaults to false: as fast as the handler
	// takes them.
	Paced bool
	// Speed divides the recorded gaps when Paced (2 plays twice as fast).
	// Defaults to 1, as does a value that is not positive and finite.
	Speed float64
	// MaxGap, when Paced, takes a recorded gap longer than it as MaxGap
	// (before Speed): a step of the wall clock forward, or a silence not
	// worth waiting out. Defaults to 0: every gap as recorded.
	MaxGap time.Duration
	// Clock is the time source of pacing. Defaults to the real clock.
	Clock Clock
	// Restamp sets each frame's ReceivedAt to Clock.Now() instead of the
	// recorded receive time. Defaults to false: events keep their recorded
	// IngestTS, so a replay gives the same canonical events as the live run.
	Restamp bool
	// Progress, when set, is called after every frame with the count so
	// far, on the replaying goroutine.
	Progress func(frames uint64)
}

// ReplayStats counts what a replay did.
type ReplayStats struct {
	Frames        uint64 // frames handed to the handler
	Bytes         uint64 // their bytes
	Sent          uint64 // sent messages in the recording, skipped
	HandlerErrors uint64 // errors the handler returned (the replay goes on)
	FirstErr      error  // the first of them
}

// Replay feeds every received frame of r, in order, to h — the same handler
// a wsclient.Client would call (a venue parser's HandleFrame, a tee, a
// [Recorder.Tap] ...) — with a schema.WsFrame filled as the client fills it:
// Provider, ConnID, Seq, ReceivedAt, Binary and Data. The frame is reused
// for the next one, as the client's pooled frames are: h must not keep it.
// Sent messages are skipped. A handler error is counted, as the client
// counts it, and the replay goes on.
//
// Replay returns at the end of r (nil error), when ctx ends (ctx.Err()) or
// on a read error (wrapping [ErrFormat] for a bad line) — except a
// recording whose last file is cut short (ErrFormat wrapping
// [ErrCutShort]: a recorder killed mid-write, which a recording of a crash
// usually is): every whole line before the cut is replayed, and the cut is
// the error returned at the end. An earlier part cut short lost lines in
// the middle of the recording: ErrFormat alone, and the replay stops there.
func Replay(ctx context.Context, r *Reader, h func(context.Context, *schema.WsFrame) error, opts *ReplayOptions) (ReplayStats, error) {
	var o ReplayOptions
	if opts != nil {
		o = *opts
	}
	if !(o.Speed > 0) || math.IsInf(o.Speed, 1) {
		o.Speed = 1
	}
	if o.Clock == nil {
		o.Clock = SystemClock()
	}
	var st ReplayStats
	fr := &schema.WsFrame{}
	var latest int64              // the latest recorded time seen (after steps back: since the step)
	var connLast map[uint64]int64 // each connection's last recorded time: a step back is seen per connection
	var elapsed time.Duration     // the recorded time since the first frame, steps and MaxGap taken out
	var start time.Time
	started := false
	var cut error // the first file cut short
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			return st, cut
		}
		if errors.Is(err, ErrCutShort) {
			cut = cmp.Or(cut, err)
			continue
		}
		if err != nil {
			return st, err
		}
		if l.Out {
			st.Sent++
			continue
		}
		if o.Paced {
			if !started {
				latest, start, started = l.Time, o.Clock.Now(), true
				connLast = map[uint64]int64{}
			}
			prev, seen := connLast[l.Conn]
			connLast[l.Conn] = l.Time
			switch gap := pace(l.Time, latest, 1); {
			case gap > 0:
				elapsed = addGap(elapsed, gap, o.MaxGap)
				latest = l.Time
			case seen && l.Time < prev:
				latest = l.Time // a step back: the pace goes on from here
			}
			due := elapsed
			if o.Speed != 1 {
				due = capped(float64(elapsed) / o.Speed)
			}
			if wait := due - o.Clock.Now().Sub(start); wait > 0 {
				if err := o.Clock.Sleep(ctx, wait); err != nil {
					return st, err
				}
			}
		}
		fill(fr, l, o.Venue, r.header.Venue)
		if o.Restamp {
			fr.ReceivedAt = o.Clock.Now().UnixNano()
		}
		st.Frames++
		st.Bytes += uint64(len(fr.Data))
		if err := h(ctx, fr); err != nil {
			st.HandlerErrors++
			if st.FirstErr == nil {
				st.FirstErr = err
			}
		}
		if o.Progress != nil {
			o.Progress(st.Frames)
		}
	}
}

// pace is when a frame recorded at t is due after one recorded at first,
// at speed: exact to the nanosecond at speed 1, and for garbage times
// neither wrapped nor overflowed but capped at the longest Duration.
func pace(t, first int64, speed float64) time.Duration {
	d := t - first
	if (t >= first) != (d >= 0) { // wrapped: far apart, in float64
		return capped((float64(t) - float64(first)) / speed)
	}
	if speed == 1 {
		return time.Duration(d)
	}
	return capped(float64(d) / speed)
}

// addGap adds a positive recorded gap to elapsed: one over most (when
// most > 0) as most, and the sum capped at the longest Duration.
func addGap(elapsed, gap, most time.Duration) time.Duration {
	if most > 0 {
		gap = min(gap, most)
	}
	if gap > math.MaxInt64-elapsed {
		return math.MaxInt64
	}
	return elapsed + gap
}

func capped(ns float64) time.Duration {
	switch {
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(ns)
}

// fill sets fr from a frame line, reusing fr.Data.
func fill(fr *schema.WsFrame, l *Line, venue schema.Venue, recorded string) {
	data := fr.Data[:0]
	if l.Bin != nil {
		data = append(data, l.Bin...)
	} else {
		data = append(data, l.Text...)
	}
	if venue == "" {
		venue = schema.Venue(recorded)
	}
	*fr = schema.WsFrame{
		Header:     fr.Header,
		Provider:   venue,
		ConnID:     l.Conn,
		Seq:        l.Seq,
		ReceivedAt: l.Time,
		Binary:     l.Binary,
		Data:       data,
	}
}

// Clock is the time source of a paced replay; a wsclient.Clock is one.
// Tests replace it so that they never sleep.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, returning ctx.Err() then.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock returns the real time source, the default [Clock] of a
// replay (and of venuesim): Now is time.Now; Sleep waits on a timer it
// stops when it returns, returns at once (ctx.Err(), nil while ctx is
// live) for d <= 0, and ctx.Err() when ctx ends first. The value is
// comparable: a caller may test c == SystemClock() to take a shortcut of
// its own for the real clock. Its Now and Sleep are those of
// wsclient.SystemClock (one implementation, which wsclient's adds timers
// to; the two values are of different types).
func SystemClock() Clock { return realclock.Clock{} }
