package wsclient

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Options: "Durations set to a negative value disable the feature where
// the field says so" (PingInterval, IdleTimeout, ControlRate). Elsewhere a
// negative value has no meaning, and New refuses it instead of building a
// client that panics (a negative EventBuffer in New, a negative BackoffBase
// in Run's first backoff), redials in a loop (a negative DialTimeout or
// PongTimeout fails every dial or connection at once) or reads without a
// limit (a negative ReadLimit).
func TestNewRejectsNegativeOptions(t *testing.T) {
	for name, o := range map[string]*Options{
		"DialTimeout":     {DialTimeout: -time.Second},
		"PongTimeout":     {PongTimeout: -time.Second},
		"BackoffBase":     {BackoffBase: -time.Second},
		"BackoffCap":      {BackoffCap: -time.Second},
		"BackoffReset":    {BackoffReset: -time.Second},
		"RotationOverlap": {RotationOverlap: -time.Second},
		"MaxAge":          {MaxAge: -time.Second},
		"TryAgainDelay":   {TryAgainDelay: -time.Second},
		"ForbiddenDelay":  {ForbiddenDelay: -time.Second},
		"ReadLimit":       {ReadLimit: -1},
		"EventBuffer":     {EventBuffer: -1, OnEvent: func(Event) {}},
	} {
		t.Run(name, func(t *testing.T) {
			var c *Client
			var err error
			require.NotPanics(t, func() { c, err = New("ws://127.0.0.1:1", nop, o) })
			require.ErrorContains(t, err, name)
			require.Nil(t, c)
		})
	}
	// The documented ones are accepted.
	c, err := New("ws://127.0.0.1:1", nop, &Options{PingInterval: -1, IdleTimeout: -1, ControlRate: -1})
	require.NoError(t, err)
	require.NoError(t, c.Close(context.Background()))
}

// A negative BackoffBase that New let through panicked in Run (the jitter
// asks for a random number below a negative bound): with New refusing it,
// the smallest accepted base, 1 ns, backs off without panicking.
func TestTinyBackoffDoesNotPanic(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	c, err := New("ws://127.0.0.1:1", nop, &Options{BackoffBase: time.Nanosecond, BackoffCap: time.Nanosecond})
	require.NoError(t, err)
	for a := 1; a < 100; a++ {
		require.NotPanics(t, func() { require.LessOrEqual(t, c.backoff(a), time.Nanosecond) })
	}
	require.NoError(t, c.Close(context.Background()))
	goleak.VerifyNone(t, leaks)
}

// Options.Frames "may be shared with other clients". Each running
// connection's reader holds a frame for its life: a pool of one frame
// shared by two clients starves the second. That must not be a silent
// stall (DESIGN.md contract 5): the starved client reports it
// (ReasonPoolExhausted, ErrFramesExhausted, Stats.PoolWaits) and delivers
// as soon as a frame is free.
func TestSharedPoolExhaustedIsReported(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	frames := pool.New("test.shared", 1, func() *schema.WsFrame { return &schema.WsFrame{} }, nil)
	optsA, optsB := peerOptions(), peerOptions()
	optsA.Frames, optsB.Frames = frames, frames
	a := start(t, p.url(), optsA, &sink{}, leaks)
	a.sink.waitFor(t, `{"conn":1}`)
	b := start(t, p.url(), optsB, &sink{}, leaks)
	b.rec.waitFor(t, "connected", connected(1))
	ev := b.rec.waitFor(t, "pool exhausted", func(ev Event) bool { return ev.Reason == ReasonPoolExhausted })
	require.ErrorIs(t, ev.Err, ErrFramesExhausted)
	require.ErrorIs(t, ev.Err, pool.ErrExhausted)
	require.EqualValues(t, 1, ev.ConnID)
	require.EqualValues(t, 1, b.c.Stats().PoolWaits)
	require.Empty(t, b.sink.got(), "starved")

	// A closes and gives its frame back: B reads.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, a.close(ctx))
	b.sink.waitFor(t, `{"conn":2}`)
	require.NoError(t, b.close(ctx))
	require.NoError(t, <-a.runErr)
	require.NoError(t, <-b.runErr)
	require.Zero(t, frames.Stats().InUse)
	p.close()
	goleak.VerifyNone(t, leaks)
}
