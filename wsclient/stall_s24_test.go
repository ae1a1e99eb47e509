package wsclient

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// A slow-loris venue: a frame begun and then trickled one byte at a time,
// each byte well within the idle timeout of the one before. Bytes are not
// messages: the reader waits inside the message all along, and the idle
// watchdog declares the connection dead once it has waited IdleTimeout
// without a whole message (the package doc: "a message that takes longer
// than IdleTimeout to arrive counts as silence"). The part received is
// never delivered.
func TestSlowLorisInsideFrameIsIdle(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	step := make(chan struct{})
	payload := `{"slow":"` + strings.Repeat("x", 200) + `"}`
	p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
		_ = pc.write(text(`{"n":1}`))
		frame := text(payload)
		_ = pc.write(frame[:4]) // header, 200+ bytes announced
		for _, b := range frame[4:] {
			if !pc.stepped(step) || pc.write([]byte{b}) != nil {
				return
			}
		}
		pc.hold()
	}))
	opts := peerOptions()
	opts.IdleTimeout = time.Second
	k := &sink{}
	h := start(t, p.url(), opts, k, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	k.waitFor(t, `{"n":1}`)
	stepUntilDead(t, h, h.live(), step) // one more byte, then a tick of the clock
	lost := requireLost(t, h, ReasonIdle)
	require.ErrorIs(t, lost.Err, ErrIdle)
	k.waitFor(t, `{"n":1}`, `{"conn":2}`)
	require.Equal(t, []string{`{"n":1}`, `{"conn":2}`}, k.got(), "the trickled message never delivered")
	h.finish(nil, p.close)
}
