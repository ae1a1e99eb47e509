// Package exit holds the process status rule that the meltica command and
// the examples share.
package exit

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/signal"
	"strings"
)

// Status is the process status of a command's error: 0 for none, for
// flag.ErrHelp (-h printed the usage, as a Go command's -h) and for an
// interrupt (ctx, the context Ctrl-C ends, is done) whose only errors are
// context.Canceled, which is the clean shutdown the user asked for; 1
// otherwise, so an error met while shutting down (a failed close, a leak)
// still fails the run. err may be an errors.Join tree: every leaf must
// match context.Canceled.
func Status(ctx context.Context, err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case ctx.Err() != nil && onlyCanceled(err):
		return 0
	}
	return 1
}

// onlyCanceled reports whether err is the interrupt alone: an error that
// matches context.Canceled, and when it joins several (errors.Join: its
// message is theirs, a line each) every one of them does. A wrapper of
// two (fmt.Errorf("%w: %w", ErrNotSent, ctx.Err())) is one error, whose
// cause is the interrupt. An error that also matches
// context.DeadlineExceeded is a timeout, not the interrupt.
func onlyCanceled(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok && joined(err, j.Unwrap()) {
		for _, e := range j.Unwrap() {
			if !onlyCanceled(e) {
				return false
			}
		}
		return true
	}
	// A timeout is no interrupt, whatever else it wraps: a context
	// cancelled with a timeout as its cause (context.WithCancelCause, as
	// wsclient's dial and read timeouts are) reports context.Canceled from
	// Err, and an error made of both must not pass for Ctrl-C.
	return errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// joined reports whether err is errs joined by errors.Join.
func joined(err error, errs []error) bool {
	if len(errs) == 0 {
		return false
	}
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	return err.Error() == strings.Join(msgs, "\n")
}

// Run runs a command under a context that Ctrl-C (os.Interrupt) ends and
// returns its error with the process status [Status] gives it. The status
// is decided before the signal handling is released: releasing it ends
// the context too, which would make any context.Canceled look like the
// user's interrupt.
func Run(run func(ctx context.Context) error) (int, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx)
	return Status(ctx, err), err
}
