package wsclient

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// OnEvent is host code run on a goroutine of the client's: a panic in it
// used to end the host's program, and a runtime.Goexit in it ended the
// event loop, so no later event reached the host (a session follows its
// connections by them) — while Run still waited for the loop at its end.
// Now a panic is recovered, counted and logged, a Goexit counted, and every
// event after either is delivered, in order.
func TestS32OnEventPanicAndGoexit(t *testing.T) {
	var logs bytes.Buffer
	var got []Reason
	c, err := New("ws://127.0.0.1:1/never", func(context.Context, *schema.WsFrame) error { return nil }, &Options{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		OnEvent: func(ev Event) {
			got = append(got, ev.Reason)
			switch ev.Reason {
			case ReasonHandlerError:
				panic("host bug")
			case ReasonInvalidFrame:
				runtime.Goexit()
			}
		},
	})
	require.NoError(t, err)
	c.evWG.Add(1)
	go c.eventLoop()
	for _, r := range []Reason{ReasonHandlerError, ReasonDial, ReasonInvalidFrame, ReasonRotation, ReasonHandlerError, ReasonClosed} {
		c.events <- Event{Reason: r}
	}
	close(c.events)
	c.evWG.Wait() // the loop, restarted after the Goexit, ran to the queue's end
	assert.Equal(t, []Reason{ReasonHandlerError, ReasonDial, ReasonInvalidFrame, ReasonRotation, ReasonHandlerError, ReasonClosed}, got)
	assert.EqualValues(t, 3, c.Stats().OnEventPanics, "two panics and a Goexit")
	assert.Contains(t, logs.String(), "OnEvent panicked")
	assert.Contains(t, logs.String(), "host bug")
}
