package natsbridge

import (
	"log/slog"
	"math/bits"
	"runtime/debug"
	"sync/atomic"
)

// onState calls the host's OnState (nil: none) with e, recovering a
// panic in it, logged at Error with its stack: host code on a goroutine of
// the bridge's, where a panic would end the host process.
func onState(log *slog.Logger, fn func(StateEvent), e StateEvent) {
	if fn == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			log.Error("natsbridge: OnState panicked (recovered)", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	fn(e)
}

// logger returns l, or a logger that discards everything.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// lossCounter counts a kind of loss and logs it at Warn on the first one
// and each time the total doubles: a lasting fault stays visible in the
// log without a line per message.
type lossCounter struct{ n atomic.Uint64 }

func (c *lossCounter) add(log *slog.Logger, n uint64, msg string, args ...any) {
	if n == 0 {
		return
	}
	total := c.n.Add(n)
	if bits.Len64(total) != bits.Len64(total-n) {
		log.Warn(msg, append(args, "count", n, "total", total)...)
	}
}

func (c *lossCounter) load() uint64 { return c.n.Load() }

// logState logs a state change of the NATS connection at Info.
func logState(log *slog.Logger, e StateEvent) {
	args := []any{"state", e.State.String(), "reconnects", e.Reconnects}
	if e.URL != "" {
		args = append(args, "url", e.URL)
	}
	if e.Err != nil {
		args = append(args, "error", e.Err)
	}
	log.Info("natsbridge: NATS connection state", args...)
}
