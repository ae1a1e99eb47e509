package wsclient

import (
	"context"
	"log/slog"
	"math/bits"

	"github.com/meltica/meltica/schema"
)

// logEvent writes ev to Options.Logger: state changes at Info, faults at
// Warn (a lost connection, a failed or unaligned rotation, a permanent
// error). Faults that come with single messages (handler errors, invalid
// frames, waits for a frame) are logged at their 1st, 2nd, 4th, 8th… occurrence, with the
// count, so that a stream of bad messages costs a few lines, never one per
// message. Keys: venue, conn_id (from 1; absent when no connection is
// concerned), state, reason, err, attempt, delay, count.
func (c *Client) logEvent(ev *Event) {
	l := c.opts.Logger
	if l == nil {
		return
	}
	level, msg := slog.LevelInfo, "wsclient: "+ev.State.String()
	var count uint64
	switch {
	case ev.Reason == ReasonHandlerError || ev.Reason == ReasonInvalidFrame || ev.Reason == ReasonPoolExhausted:
		switch ev.Reason {
		case ReasonHandlerError:
			count = c.st.handlerErrs.Load()
		case ReasonInvalidFrame:
			count = c.st.invalid.Load()
		default:
			count = c.st.poolWaits.Load()
		}
		if bits.OnesCount64(count) != 1 {
			return
		}
		level, msg = slog.LevelWarn, "wsclient: "+ev.Reason.String()
	case ev.Err == ErrRotationUnaligned:
		level, msg = slog.LevelWarn, "wsclient: rotation unaligned"
	case ev.State == schema.ConnDisconnected,
		ev.Err != nil && ev.State != schema.ConnReconnecting && ev.State != schema.ConnClosed:
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if !l.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.String("venue", string(c.opts.Venue)))
	if ev.ConnID != 0 {
		attrs = append(attrs, slog.Uint64("conn_id", ev.ConnID))
	}
	attrs = append(attrs, slog.String("state", ev.State.String()), slog.String("reason", ev.Reason.String()))
	if ev.Err != nil {
		attrs = append(attrs, slog.String("err", ev.Err.Error()))
	}
	if ev.State == schema.ConnReconnecting {
		attrs = append(attrs, slog.Int("attempt", ev.Attempt), slog.Duration("delay", ev.Delay))
	}
	if count != 0 {
		attrs = append(attrs, slog.Uint64("count", count))
	}
	l.LogAttrs(ctx, level, msg, attrs...)
}
