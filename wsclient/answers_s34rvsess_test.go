package wsclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// A rotation's new connection answers its own subscriptions (an ack, a
// refusal) before its first data frame: an answer of that connection
// alone, which the old connection never had. The streams join on the
// first data frame seen on both, and the new connection's frames from
// before the join are dropped — the answer with them, so a refusal on the
// new connection never reached the handler (a session's WaitConnected then
// waited until its ctx). An answer (Options.IsData false) is delivered
// whatever the alignment says, and is not counted as a dropped frame.
func TestS34RotationDeliversTheNewConnectionsAnswers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keyed bool // no AlignKey: the answer is a keyed frame of the new connection alone
	}{{"answer unkeyed", false}, {"answer keyed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			hb, v, ks, opts, isAnswer := answeringVenue(t, tc.keyed, func(n int) int {
				if n == 2 {
					return 5 // the new connection's stream behind the old one's: its first frame a repeat, the join
				}
				return 0
			})
			h := start(t, v.url(), opts, &sink{hook: func(f *schema.WsFrame) error {
				if isAnswer(f.Data) {
					return nil
				}
				return ks.hook(f)
			}}, leaks)
			publish := func(n int) {
				for range n {
					hb.publish()
				}
			}
			rotateIntoSkipping(t, h, hb, ks, publish)
			publish(10) // connection 2 sends up to 21
			require.Eventually(t, func() bool { return ks.last() == 21 }, wait, time.Millisecond, "connection 2 up to 21")
			h.sink.waitFor(t, `{"ack":1}`, `{"ack":2}`)
			h.finish(v)

			ks.requireEachOnce(t)
			st := h.c.Stats()
			require.Zero(t, st.RotationDropped, "the answer is no dropped frame")
			require.Zero(t, st.Unaligned)
		})
	}
}
