package wsclient

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// greetThenSilent greets once after the subscriptions, then sends nothing.
func greetThenSilent(s *session) {
	if s.readN(len(testSubs)) != nil {
		return
	}
	s.readForever()
	if s.send(fmt.Sprintf(`{"conn":%d}`, s.n)) != nil {
		return
	}
	<-s.ctx.Done()
}

// BackoffReset is how long the client must have delivered without a break
// for the attempt count to start again. A connection lost to a timeout of
// silence (IdleTimeout, DataTimeout) delivered nothing during that
// timeout: its last stretch is no delivery. With a timeout longer than
// BackoffReset (DataTimeout is meant to be minutes, BackoffReset defaults
// to 60 s), every connection of a venue that accepts, acknowledges and
// then delivers nothing (a subscription refused with an error message,
// the connection kept) lived long enough, and the attempt count started
// again at every loss: the client redialled at attempt 1 (a wait of up to
// BackoffBase) for ever, every client at once after an outage, and never
// backed off. The silence that ended the connection is not counted.
func TestBackoffResetExcludesTheSilenceThatEndedIt(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Options)
	}{
		{"idle", func(o *Options) { o.IdleTimeout = 2 * time.Second }},
		{"no data", func(o *Options) {
			o.DataTimeout = 2 * time.Second
			o.IsData = func([]byte) bool { return false }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			v := newVenue(t, greetThenSilent)
			opts := quickOptions()
			opts.PingInterval = -1
			opts.BackoffReset = time.Second
			tc.edit(opts)
			h := start(t, v.url(), opts, &sink{}, leaks)
			step := h.c.watchdogTick()
			for n := 1; n <= 3; n++ {
				// The clock moves only while connection n, having greeted,
				// is silent (the fake clock's Sleep moves it by the
				// backoff): a dial or a greeting late on a busy machine
				// would else count as delivery.
				h.rec.waitFor(t, "connected", connected(uint64(n)))
				h.sink.waitFor(t, fmt.Sprintf(`{"conn":%d}`, n))
				cn := h.live()
				require.EqualValues(t, n, cn.id)
				for !isDead(cn) {
					tickWatchdog(t, h, cn, step)
				}
				re := h.rec.waitFor(t, "reconnecting", func(ev Event) bool {
					return ev.State == schema.ConnReconnecting && ev.ConnID == uint64(n)
				})
				require.Equal(t, n, re.Attempt, "connection %d delivered for no time at all: %v", n, re)
			}
			h.finish(v)
		})
	}
}
