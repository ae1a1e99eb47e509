package natsbridge

import (
	"context"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/schema"
)

// faultHandler is a host's slog handler that runs fault on every record at
// Warn or above (and counts them): a panic, or runtime.Goexit as
// t.FailNow in a test's handler does.
type faultHandler struct {
	fault  func()
	faults *atomic.Int64
}

func (faultHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h faultHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.faults.Add(1)
		h.fault()
	}
	return nil
}
func (h faultHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h faultHandler) WithGroup(string) slog.Handler      { return h }

var hostFaults = []struct {
	name  string
	fault func()
}{
	{"panic", func() { panic("host bug") }},
	{"Goexit", runtime.Goexit},
}

// TestS32PublisherHostFaults: the Publisher runs host code on goroutines
// of its own and of the dispatcher's: OnExecBacklog and the Logger's
// handler on the delivery goroutine, the handler on the goroutine that
// stores reports. A panic there ended the host process; a runtime.Goexit
// in OnExecBacklog ended the dispatcher's delivery goroutine, which
// unsubscribed the Publisher (every later report lost, nothing counted),
// and one in the handler the storing goroutine (the queued reports never
// stored). Each report published across a NATS outage with the host's
// code faulting must be stored, and one published after it too.
func TestS32PublisherHostFaults(t *testing.T) {
	for _, where := range []string{"OnExecBacklog", "Logger"} {
		for _, hf := range hostFaults {
			t.Run(where+"/"+hf.name, func(t *testing.T) {
				srv := startServer(t)
				ingest := newNode(t)
				var dialer embedded.Dialer
				dialer.Follow(srv)
				states := make(chan StateEvent, 64)
				var faults atomic.Int64
				o := &PublisherOptions{ExecBound: 1, OnState: func(e StateEvent) { states <- e }}
				if where == "OnExecBacklog" {
					o.OnExecBacklog = func(int) {
						faults.Add(1)
						hf.fault()
					}
				} else {
					o.Logger = slog.New(faultHandler{hf.fault, &faults})
				}
				pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(&dialer)}}), ingest.d, o)
				require.NoError(t, err)
				srv.Stop()
				awaitState(t, states, schema.ConnReconnecting)
				const n = 4
				for i := range n {
					ingest.publish(t, execReport(i)) // over ExecBound from the second
				}
				eventually(t, func() bool { return faults.Load() > 0 }, "the host's code ran")
				// A store failed and was retried: the storing goroutine
				// logged it (the handler's second fault, after the
				// delivery goroutine's over ExecBound).
				eventually(t, func() bool { return pub.Stats().ExecRetries > 0 }, "no store failed")
				srv2, err := srv.Restart()
				require.NoError(t, err)
				t.Cleanup(srv2.Stop)
				dialer.Follow(srv2)
				awaitState(t, states, schema.ConnConnected)
				ingest.publish(t, execReport(n))
				eventually(t, func() bool { return pub.Stats().ExecStored == n+1 }, "execution reports not stored: %+v", pub.Stats())
				require.NoError(t, pub.Close(closeCtx(t)))
				ingest.close(t)
			})
		}
	}
}
