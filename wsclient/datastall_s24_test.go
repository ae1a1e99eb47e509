package wsclient

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// isData counts every message but the test venues' heartbeats as data.
func isData(frame []byte) bool { return !bytes.HasPrefix(frame, []byte(`{"hb"`)) }

func isDead(cn *conn) bool {
	select {
	case <-cn.dead:
		return true
	default:
		return false
	}
}

// heartbeatPeer sends one data message, then, at each step, a heartbeat
// and, when data says so, a data message: a venue whose heartbeats (or
// answers to the client's Heartbeat) keep coming whether its
// subscriptions deliver or not.
func heartbeatPeer(step <-chan bool) func(pc *peerConn) {
	return faultyPeer(func(pc *peerConn) {
		_ = pc.write(text(`{"n":0}`))
		for n := 1; ; n++ {
			var data bool
			select {
			case data = <-step:
			case <-pc.gone:
				return
			case <-pc.done:
				return
			}
			msgs := [][]byte{text(fmt.Sprintf(`{"hb":%d}`, n))}
			if data {
				msgs = append(msgs, text(fmt.Sprintf(`{"n":%d}`, n)))
			}
			if pc.write(msgs...) != nil {
				return
			}
		}
	})
}

// dataStall is a client connected to a heartbeatPeer, its first data
// message delivered.
type dataStall struct {
	h    *harness
	k    *sink
	p    *rawPeer
	step chan bool
	opts *Options
	cn   *conn
	tick time.Duration
}

func startDataStall(t *testing.T) *dataStall {
	leaks := goleak.IgnoreCurrent()
	ds := &dataStall{k: &sink{}, step: make(chan bool), opts: peerOptions()}
	ds.p = newRawPeer(t, heartbeatPeer(ds.step))
	ds.opts.IdleTimeout = time.Second // fed by the heartbeats
	ds.opts.DataTimeout = 3 * time.Second
	ds.opts.IsData = isData
	ds.h = start(t, ds.p.url(), ds.opts, ds.k, leaks)
	ds.h.rec.waitFor(t, "connected", connected(1))
	ds.k.waitFor(t, `{"n":0}`)
	ds.cn, ds.tick = ds.h.live(), ds.h.c.watchdogTick()
	return ds
}

// The silent stall users fear most, as reported of real venues: the
// connection is up, pings and heartbeats are answered, but the
// subscriptions no longer deliver (pybit #242: "the ping mechanism does not
// detect when a WebSocket connection has stopped retrieving up-to-date
// prices"; Polymarket real-time-data-client #26: "connection stays OPEN,
// ping/pong healthy, but no price messages"). The idle watchdog cannot see
// it: heartbeats are messages. Options.DataTimeout, with IsData telling
// heartbeats from data, declares the connection dead ([ErrNoData]) and
// the client redials and resubscribes.
func TestDataStallBehindHeartbeatsDetected(t *testing.T) {
	ds := startDataStall(t)
	h, cn, tick, opts := ds.h, ds.cn, ds.tick, ds.opts
	ticks := 0
	for dead := false; !dead; { // the clock moves only while connection 1 lives
		select {
		case ds.step <- false: // a heartbeat, no data
			hb := fmt.Sprintf(`{"hb":%d}`, ticks+1)
			require.Eventually(t, func() bool { return slices.Contains(ds.k.got(), hb) || isDead(cn) }, wait, time.Millisecond)
			tickWatchdog(t, h, cn, tick)
			ticks++
			require.Less(t, ticks, 100, "no stall detected")
		case <-cn.dead:
			dead = true
		case <-time.After(wait):
			t.Fatal("the peer stopped")
		}
	}
	lost := requireLost(t, h, ReasonNoData)
	require.ErrorIs(t, lost.Err, ErrNoData)
	require.GreaterOrEqual(t, time.Duration(ticks)*tick, opts.DataTimeout, "not before DataTimeout")
	require.Zero(t, h.c.Stats().Reconnects[ReasonIdle], "heartbeats kept the idle watchdog fed")
	require.EqualValues(t, 1, h.c.Stats().Reconnects[ReasonNoData])
	h.finish(nil, ds.p.close)
}

// Data arriving, however sparse within DataTimeout, keeps the connection;
// so does a stream of data without heartbeats.
func TestDataFlowingKeepsConnection(t *testing.T) {
	ds := startDataStall(t)
	h, k, cn, tick, opts := ds.h, ds.k, ds.cn, ds.tick, ds.opts
	every := int(opts.DataTimeout/tick) - 2 // data just within the timeout
	for i := 1; i <= 4*every; i++ {
		data := i%every == 0
		select {
		case ds.step <- data:
		case <-time.After(wait):
			t.Fatal("the peer stopped")
		}
		// Read before the clock moves: a reader that lags on a busy
		// machine waits on the socket meanwhile, which counts.
		k.waitFor(t, fmt.Sprintf(`{"hb":%d}`, i))
		if data {
			k.waitFor(t, fmt.Sprintf(`{"n":%d}`, i))
		}
		tickWatchdog(t, h, cn, tick)
		require.False(t, h.lostConn1(), "lost at tick %d: %v", i, h.rec.all())
	}
	require.Equal(t, schema.ConnConnected, h.c.State())
	h.finish(nil, ds.p.close)
}

func TestNewDataTimeoutNeedsIsData(t *testing.T) {
	_, err := New("ws://venue.invalid/", nop, &Options{DataTimeout: time.Second})
	require.ErrorContains(t, err, "IsData")
	_, err = New("ws://venue.invalid/", nop, &Options{DataTimeout: -time.Second, IsData: isData})
	require.ErrorContains(t, err, "DataTimeout")
}
