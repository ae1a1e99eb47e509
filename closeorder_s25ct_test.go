package meltica_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// s25ctPermutations returns every order of n steps.
func s25ctPermutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range s25ctPermutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// The module doc: "Meltica starts no goroutine the host did not ask for
// and leaves none running after Close"; STYLE: "No goroutine outlives
// Close (goleak proves it)". A live pipeline — a venue streaming on
// loopback, a handler subscriber, a channel subscriber read to its end —
// stopped in every order of its three stops (the client's Close, the end
// of Run's context, the dispatcher's Close), while data is flowing: no
// goroutine left, every pooled object back, and each stop's error only
// what its doc says.
func TestS25ctCloseInEveryOrder(t *testing.T) {
	msgs, _ := s25ctStream(3000)
	for _, order := range s25ctPermutations(3) {
		name := ""
		for _, s := range order {
			name += []string{"client", "cancel", "dispatcher"}[s] + "-"
		}
		t.Run(strings.TrimSuffix(name, "-"), func(t *testing.T) {
			url, _ := s25ctVenue(t, msgs)
			ctx := context.Background()
			pools := schema.NewPools(nil)
			d := dispatch.New(pools.Events, nil)
			_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
			require.NoError(t, err)
			ch, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, nil)
			require.NoError(t, err)
			read := make(chan int)
			go func() {
				n := 0
				for range ch.C() {
					n++
				}
				read <- n
			}()
			p := normalize.NewBinance(pools.Events, d, nil)
			c, err := wsclient.New(url, p.HandleFrame, &wsclient.Options{Venue: schema.VenueBinance, Frames: pools.Frames})
			require.NoError(t, err)
			runCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			ran := make(chan error, 1)
			go func() { ran <- c.Run(runCtx) }()
			require.Eventually(t, func() bool { return p.Stats().Events > 100 }, time.Minute, time.Millisecond, "data flowing")

			for _, s := range order {
				switch s {
				case 0:
					assert.NoError(t, c.Close(ctx), "client Close")
				case 1:
					cancel()
				case 2:
					assert.NoError(t, d.Close(ctx), "dispatcher Close")
				}
			}
			select {
			case err := <-ran:
				// Run's doc: it returns when Close is called or its
				// context ends.
				if err != nil {
					assert.True(t, errors.Is(err, context.Canceled) || errors.Is(err, wsclient.ErrClosed), "Run: %v", err)
				}
			case <-time.After(time.Minute):
				t.Fatal("Run did not return after Close and cancel")
			}
			select {
			case <-read:
			case <-time.After(time.Minute):
				t.Fatal("the channel subscription was not closed after the dispatcher's Close")
			}
			require.NoError(t, pools.Shutdown(ctx), "every pooled object back")
			goleak.VerifyNone(t, goleak.IgnoreCurrent())
		})
	}
}

// Close with a handler stuck: the dispatcher's Close gives up when its
// context ends (a *CloseError matching the context's error, saying one
// goroutine is still inside its handler), the pools get every pooled
// object back all the same (queued events are clones), and the stuck
// goroutine exits once its handler returns.
func TestS25ctCloseWithAStuckHandler(t *testing.T) {
	before := goleak.IgnoreCurrent()
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	stuck, release := make(chan struct{}, 1), make(chan struct{})
	sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {
		select {
		case stuck <- struct{}{}:
		default:
		}
		<-release
	}})
	require.NoError(t, err)
	p := normalize.NewBinance(pools.Events, d, nil)
	msgs, _ := s25ctStream(100)
	for _, m := range msgs {
		_ = p.HandleBytes(ctx, m, 1)
	}
	<-stuck
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err = d.Close(cctx)
	var ce *dispatch.CloseError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, ce.Running)
	assert.Positive(t, ce.Discarded)
	require.NoError(t, pools.Shutdown(ctx), "queued clones are no pool's: every pooled event is back")
	close(release)
	select {
	case <-sub.Done():
	case <-time.After(time.Minute):
		t.Fatal("the stuck subscription did not end once its handler returned")
	}
	goleak.VerifyNone(t, before)
}

// pool's doc: Shutdown "waits for every object to come back; when they do
// not, its error says how many are missing"; "Calling it again waits
// again". A running client holds one frame: Shutdown reports the frames
// pool's leak, typed (errors.As *pool.LeakError, errors.Is ErrLeaked and
// the context's error); once the client is closed, Shutdown again is nil.
func TestS25ctShutdownWhileRunningReportsTheFrame(t *testing.T) {
	msgs, _ := s25ctStream(10)
	url, sent := s25ctVenue(t, msgs)
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	p := normalize.NewBinance(pools.Events, d, nil)
	c, err := wsclient.New(url, p.HandleFrame, &wsclient.Options{Venue: schema.VenueBinance, Frames: pools.Frames})
	require.NoError(t, err)
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()
	<-sent
	require.Eventually(t, func() bool { return p.Stats().Messages == uint64(len(msgs)) }, time.Minute, time.Millisecond)
	sctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err = pools.Frames.Shutdown(sctx)
	var le *pool.LeakError
	require.ErrorAs(t, err, &le)
	assert.ErrorIs(t, err, pool.ErrLeaked)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, int64(1), le.Outstanding, "the reader's one frame")
	assert.Equal(t, pools.Frames.Name(), le.Pool)
	require.NoError(t, c.Close(ctx))
	s25ctRunEnded(t, <-ran)
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx), "back after Close")
}

// Session's Close "closes every connection at once ..., then the
// dispatcher ..., then shuts the pools down", and is idempotent. With the
// simulated venue gone first (every connection cut, the session
// redialling), gone after, or gone while Close runs; with orders and the
// user-data stream up; with Start's context ended before or after Close:
// Close returns nil (nothing leaked), a second Close too, and no goroutine
// of either is left.
func TestS25ctSessionCloseInEveryOrder(t *testing.T) {
	keys := normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s")))
	for _, venueFirst := range []bool{true, false} {
		for _, cancelFirst := range []bool{true, false} {
			t.Run(fmt.Sprintf("venueFirst=%v/cancelFirst=%v", venueFirst, cancelFirst), func(t *testing.T) {
				before := goleak.IgnoreCurrent()
				v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: 1000, APIKey: "k", APISecret: "s"})
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				s, err := session.Start(ctx, session.Config{
					Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
					Symbols:     []string{"BTC-USDT", "ETH-USDT"},
					Channels:    []string{"trade", "bookTicker", "depth@100ms"},
					Credentials: keys,
				})
				require.NoError(t, err)
				_, err = s.Dispatcher().Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
				require.NoError(t, err)
				wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
				require.NoError(t, s.WaitConnected(wctx))
				wcancel()
				require.Eventually(t, func() bool { return s.Stats().Market[0].Parser.Events > 50 }, time.Minute, time.Millisecond)
				if cancelFirst {
					cancel()
				}
				if venueFirst {
					v.Close()
				}
				cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
				defer ccancel()
				assert.NoError(t, s.Close(cctx), "Close: the leak check")
				assert.NoError(t, s.Close(cctx), "Close again")
				if !venueFirst {
					v.Close()
				}
				cancel()
				goleak.VerifyNone(t, before)
			})
		}
	}
}

// The module doc: "Meltica starts no goroutine the host did not ask for".
// Building the pieces — pools, a dispatcher, every venue's parser, a
// client with every callback set — starts none: only Run and Subscribe
// do, and a client built but never run needs no Close.
func TestS25ctConstructorsStartNoGoroutine(t *testing.T) {
	before := goleak.IgnoreCurrent()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{OnCriticalOverflow: func(*dispatch.Subscription, dispatch.Stats) {}})
	for _, mk := range s25ctParsers {
		_ = mk(pools.Events, d, nil)
	}
	_, err := wsclient.New("ws://127.0.0.1:1/ws", func(context.Context, *schema.WsFrame) error { return nil }, &wsclient.Options{
		Venue: schema.VenueBinance, Frames: pools.Frames, OnEvent: func(wsclient.Event) {},
		Heartbeat: []byte("ping"), MaxAge: time.Hour, Subscriptions: [][]byte{[]byte(`{"method":"SUBSCRIBE"}`)},
	})
	require.NoError(t, err)
	goleak.VerifyNone(t, before)
}
