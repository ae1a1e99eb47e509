package natsbridge

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestS38natsResumeGenFrom: the stream sequence from which a resume's
// durable consumer delivers again (execGenFrom: an older Consume's late
// delivery at or past it is handed back, before it handed on) in each of
// the resume's three cases — a consumer made again by this Consumer
// after the last report handled; of another stream, none (math.MaxUint64).
// The third, a consumer there whose Consume stopped (its ack floor's
// next), is not read directly: a late error of a replaced Consume may
// resume again and move it (TestS38natsOperatorReplayNotRepeated reads
// its replay bound instead).
func TestS38natsResumeGenFrom(t *testing.T) {
	for _, tc := range []struct {
		name   string
		memory bool
		remove func(t *testing.T, r *durableRig)
		from   uint64
	}{
		{"consumer deleted", false, func(t *testing.T, r *durableRig) {
			require.NoError(t, r.js.DeleteConsumer(waitCtx(t), DefaultStream, "s24"))
		}, 4},
		{"stream deleted", true, func(t *testing.T, r *durableRig) {
			require.NoError(t, r.js.DeleteStream(waitCtx(t), DefaultStream))
		}, math.MaxUint64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newDurableRig(t, StreamOptions{Memory: tc.memory})
			for i := range 3 {
				r.report(i)
			}
			r.acked("s24", 3)
			tc.remove(t, r)
			eventually(t, func() bool { return r.cons.Stats().ExecResumed > 0 }, "resumed")
			require.Equal(t, tc.from, genFrom(r.cons))
			r.report(3)
			r.close()
		})
	}
}

// genFrom reads c's execGenFrom.
func genFrom(c *Consumer) uint64 {
	c.execMu.Lock()
	defer c.execMu.Unlock()
	return c.execGenFrom
}
