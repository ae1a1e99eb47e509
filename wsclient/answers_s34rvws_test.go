package wsclient

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// The other way of joining (TestS34RotationDeliversTheNewConnectionsAnswers
// has the new stream behind): the new connection's stream ahead of the old
// one's, so the join is a frame it queued, found when the old connection
// delivers it. The new connection's answer queued before the join is
// delivered once, after the old connection's last frame and before the
// new connection's first data, and not counted as dropped; the join
// itself is not delivered again.
func TestS34rvwsRotationAnswerBeforeAQueuedJoin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keyed bool // no AlignKey: the answer is a keyed frame of the new connection alone
	}{{"answer unkeyed", false}, {"answer keyed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			hb, v, ks, opts, isAnswer := answeringVenue(t, tc.keyed, func(n int) int {
				if n == 1 {
					return 5 // the old connection's stream behind the new one's
				}
				return 0
			})
			// Where the new connection's answer came among the data.
			var ackAfter []int
			h := start(t, v.url(), opts, &sink{hook: func(f *schema.WsFrame) error {
				if isAnswer(f.Data) {
					ackAfter = append(ackAfter, ks.last())
					return nil
				}
				return ks.hook(f)
			}}, leaks)
			publish := func(n int) {
				for range n {
					hb.publish()
				}
			}
			require.Eventually(t, func() bool { return hb.subscribed(1) }, wait, time.Millisecond)
			publish(10) // connection 1 sends 1..5, holds 6..10
			ks.waitCount(t, 5, "connection 1")
			require.NoError(t, h.c.Rotate())
			require.Eventually(t, func() bool { return hb.subscribed(2) }, wait, time.Millisecond, "connection 2 subscribed")
			// Connection 2 sends its ack, then 11.. (queued); connection 1
			// reaches 11 after 6 more: the join, queued.
			publish(6)
			require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "rotation")
			publish(4)
			require.Eventually(t, func() bool { return ks.last() == 20 }, wait, time.Millisecond, "connection 2 up to 20")
			h.sink.waitFor(t, `{"ack":1}`, `{"ack":2}`)
			h.finish(v)

			ks.requireEachOnce(t)
			require.Equal(t, []int{0, 11}, ackAfter, "each answer once: connection 2's after the old connection's last frame (11), before its own data")
			st := h.c.Stats()
			require.Zero(t, st.RotationDropped, "the answer is no dropped frame")
			require.Zero(t, st.Unaligned)
		})
	}
}

// answeringVenue is a hub's venue whose connection n first answers its
// subscriptions with {"ack":n}, its streams lagging by lag, and the
// rotation options that tell the answers by IsData (and, unless keyed, by
// an AlignKey that gives them no key).
func answeringVenue(t *testing.T, keyed bool, lag func(n int) int) (*hub, *venue, *seqSink, *Options, func([]byte) bool) {
	hb := newHub(false)
	serve := hb.serve(lag)
	v := newVenue(t, func(s *session) {
		if s.send(`{"ack":`+strconv.Itoa(s.n)+`}`) != nil {
			return
		}
		serve(s)
	})
	opts := rotationOptions()
	isAnswer := func(b []byte) bool { return bytes.HasPrefix(b, []byte(`{"ack":`)) }
	opts.IsData = func(b []byte) bool { return !isAnswer(b) }
	if !keyed {
		opts.AlignKey = func(b []byte) []byte {
			if isAnswer(b) {
				return nil
			}
			return b
		}
	}
	return hb, v, &seqSink{conns: map[uint64]int{}}, opts, isAnswer
}
