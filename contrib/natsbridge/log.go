package natsbridge

import (
	"context"
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

// logger returns l, its handler isolated (see hostHandler), or a logger
// that discards everything.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(hostHandler{l.Handler()})
}

// hostHandler runs a host's slog handler, host code, through hostCall: the
// bridge logs on goroutines of its own (storing execution reports, handing
// messages on) and of nats.go's and the dispatcher's, where a panic in the
// handler ended the host process and a runtime.Goexit (t.FailNow in a
// test's handler) the goroutine — the Publisher's storing one, its reports
// never stored; the dispatcher's delivery one, the Publisher unsubscribed.
// A record whose handler panics or exits is dropped. The bridge logs the
// first loss of a kind and then each time its total doubles, never once
// per message: a goroutine per record costs nothing that counts.
type hostHandler struct{ h slog.Handler }

func (g hostHandler) Enabled(ctx context.Context, l slog.Level) bool {
	on := false
	hostCall(func() { on = g.h.Enabled(ctx, l) })
	return on
}

func (g hostHandler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	hostCall(func() { err = g.h.Handle(ctx, r) })
	return err
}

// WithAttrs and WithGroup run on the caller's goroutine: the bridge calls
// them inside NewPublisher and NewConsumer, the host's.
func (g hostHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return hostHandler{g.h.WithAttrs(as)}
}

func (g hostHandler) WithGroup(name string) slog.Handler {
	return hostHandler{g.h.WithGroup(name)}
}

// hostCall runs fn, host code, on a goroutine of its own and waits for it
// to end: a panic in fn is recovered and returned, and a runtime.Goexit in
// it (exited) ends that goroutine only, not the bridge's that called — no
// recover stops a Goexit, and the goroutine it ends may be one that stores
// execution reports or delivers them.
func hostCall(fn func()) (panicked any, exited bool) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		returned := false
		defer func() {
			if !returned {
				panicked = recover()
				exited = panicked == nil
			}
		}()
		fn()
		returned = true
	}()
	<-done
	return panicked, exited
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
