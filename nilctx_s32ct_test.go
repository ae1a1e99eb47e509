package meltica_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// s32ctChildEnv names the nil-context misuse a child test process runs.
const s32ctChildEnv = "S32CT_NILCTX_CHILD"

// s32ctMisuse runs f, a host's misuse, on the calling goroutine and says
// what came of it: its error, or the panic it raised there (recovered).
func s32ctMisuse(f func() error) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("panic on the caller's goroutine: %v", r)
		}
	}()
	return fmt.Sprintf("returned %v", f())
}

// The host misusing the API the way Go forbids: the context package's doc,
// "Do not pass a nil Context, even if a function permits it. Pass
// context.TODO if you are unsure about which Context to use." Our docs
// say nothing of it, so what must happen is what the standard library does
// (context.WithCancel(nil) panics "cannot create context from nil parent"
// on the caller's goroutine; http.NewRequestWithContext returns an error):
// an error, or a panic on the goroutine that made the call, which the host
// can recover and whose stack names its mistake — never a crash from a
// goroutine of ours, which no host can recover and which kills a trading
// bot with its open orders (the Go spec: a panic that reaches the top of
// its goroutine ends the program). And the object misused stays usable:
// closed or shut down again with a real context, it returns everything.
// (A nil context taken as "wait for ever" would hang Shutdown with an
// event out: the child's -test.timeout ends that as a failure.)
//
// The misuses — Dispatcher.Close, schema.Pools.Shutdown with an event
// still out, pool.Pool.Shutdown likewise — run in a child process so a crash
// fails this test instead of ending the suite.
func TestS32ctNilContextNeverCrashesFromOurGoroutine(t *testing.T) {
	scenarios := map[string]func(*testing.T){
		"dispatch-and-pools": s32ctNilContextPools,
		"session":            s32ctNilContextSession,
	}
	if name := os.Getenv(s32ctChildEnv); name != "" {
		scenarios[name](t)
		return
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	for name := range scenarios {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(exe, "-test.run", "^TestS32ctNilContextNeverCrashesFromOurGoroutine$", "-test.v", "-test.count", "1",
				"-test.timeout", "5m") // a wait without bound fails too, if late
			cmd.Env = append(os.Environ(), s32ctChildEnv+"="+name)
			out, err := cmd.CombinedOutput()
			assert.NoError(t, err, "the child process (%s given a nil context) failed or crashed:\n%s", name, out)
			if err == nil {
				t.Logf("child:\n%s", out)
			}
		})
	}
}

// s32ctNilContextSession: session.Start, WaitConnected and Close given a
// nil context, against the simulated Binance.
func s32ctNilContextSession(t *testing.T) {
	var nilCtx context.Context // the misuse: a nil Context
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 100, PingInterval: -1})
	defer v.Close()
	cfg := session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"trade"},
	}
	var s *session.Session
	t.Logf("session.Start(nil): %s", s32ctMisuse(func() (err error) { s, err = session.Start(nilCtx, cfg); return err }))
	if s == nil {
		var err error
		s, err = session.Start(context.Background(), cfg)
		require.NoError(t, err)
	}
	t.Logf("WaitConnected(nil): %s", s32ctMisuse(func() error { return s.WaitConnected(nilCtx) }))
	ctx := s31ctConnected(t, s)
	t.Logf("Session.Close(nil): %s", s32ctMisuse(func() error { return s.Close(nilCtx) }))
	require.NoError(t, s.Close(ctx), "Close with a real context after the misuse")
}

// s32ctNilContextPools: Dispatcher.Close, schema.Pools.Shutdown and
// pool.Pool.Shutdown given a nil context, an event still out.
func s32ctNilContextPools(t *testing.T) {
	var nilCtx context.Context // the misuse: a nil Context
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	got := make(chan *schema.CanonicalEvent, 4)
	_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	ev, err := pools.Events.Get(ctx)
	require.NoError(t, err)
	ev.Venue, ev.Type, ev.Symbol, ev.SeqProvider = "binance", schema.EventTrade, "BTC-USDT", 1
	require.NoError(t, d.Publish(ctx, ev))
	<-got

	t.Logf("Dispatcher.Close(nil): %s", s32ctMisuse(func() error { return d.Close(nilCtx) }))
	require.NoError(t, d.Close(ctx), "Close with a real context after the misuse")

	out, err := pools.Events.Get(ctx) // one event still out: Shutdown has to wait
	require.NoError(t, err)
	t.Logf("Pools.Shutdown(nil), an event out: %s", s32ctMisuse(func() error { return pools.Shutdown(nilCtx) }))
	t.Logf("Pool.Shutdown(nil), an event out: %s", s32ctMisuse(func() error { return pools.Events.Shutdown(nilCtx) }))
	pools.Events.Put(out)
	require.NoError(t, pools.Shutdown(ctx), "every pooled object back after the misuse")
}
