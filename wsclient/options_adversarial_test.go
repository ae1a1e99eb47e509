package wsclient

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
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
