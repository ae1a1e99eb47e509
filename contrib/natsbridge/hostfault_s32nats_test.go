package natsbridge

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
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

// TestS32ConsumerHostDispatcherGoexit: the Consumer publishes into the
// host's dispatcher on goroutines of its own (core messages) and of
// nats.go's (execution reports), and Publish calls host code there: the
// dispatcher's OnCriticalOverflow and Logger. dispatch survives a
// runtime.Goexit in them (the event reaches every subscriber and goes back
// to its pool) but the Goexit goes on and ends the caller. It ended the
// Consumer's loop (no core message handed on again) or nats.go's goroutine
// of the durable consumer (no report delivered again, the one in hand never
// acknowledged). Every message published after the host's Goexit must still
// reach the host's subscribers, each report once.
func TestS32ConsumerHostDispatcherGoexit(t *testing.T) {
	for _, durable := range []bool{false, true} {
		name := "core"
		if durable {
			name = "durable"
		}
		t.Run(name, func(t *testing.T) {
			r := newGoexitRig(t, binanceOnly, binanceOnly)
			o := &ConsumerOptions{}
			if durable {
				o.Durable = "goexit"
			}
			cons, err := NewConsumer(waitCtx(t), connect(t, r.srv.ClientURL(), nil), r.far.d, r.far.pools.Events, o)
			require.NoError(t, err)
			critical := func(i int) func(*schema.CanonicalEvent) {
				if durable {
					return execReport(i)
				}
				return func(ev *schema.CanonicalEvent) { // a venue's connection state, critical, on core NATS
					ev.Venue, ev.Type = schema.VenueBinance, schema.EventConnState
					ev.UseControl().Kind, ev.UseControl().State, ev.UseControl().Code = schema.ControlConnState, schema.ConnConnected, int64(i)
				}
			}
			isCritical := func(ev *schema.CanonicalEvent) bool { return ev.Type.Critical() }
			const n = 5
			for i := range n {
				r.ingest.publish(t, critical(i))
			}
			r.goexited(t)
			for i := range n {
				ev := next(t, r.got, isCritical)
				if durable {
					require.Equal(t, strconv.Itoa(1000+i), ev.Exec.TradeID.String(), "report %d", i)
				} else {
					require.Equal(t, int64(i), ev.Control.Code)
				}
			}
			// After the host's Goexit: market data and critical messages go on.
			r.ingest.publish(t, func(ev *schema.CanonicalEvent) {
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, 1
			})
			require.Equal(t, schema.EventTrade, next(t, r.got, anyEvent).Type)
			r.close(t, cons)
			if durable {
				require.Equal(t, uint64(n), cons.Stats().ExecDelivered, "%+v", cons.Stats())
			}
			select {
			case ev := <-r.got:
				t.Fatalf("delivered twice or unexpected: %+v", ev)
			default:
			}
		})
	}
}

// TestS32ConsumerHostGoexitOnUndecodableReport: as
// TestS32ConsumerHostDispatcherGoexit, the Goexit inside the Publish of
// the gap marker that announces an undecodable durable message (another
// producer's): the message is terminated and counted as malformed, not
// taken for a report delivered, and the reports after it are delivered.
func TestS32ConsumerHostGoexitOnUndecodableReport(t *testing.T) {
	// The blocking subscriber takes the first marker; the third takes its
	// critical lane over its bound.
	r := newGoexitRig(t, dispatch.Filter{Types: []schema.EventType{schema.EventGap}}, binanceOnly)
	cons, err := NewConsumer(waitCtx(t), connect(t, r.srv.ClientURL(), nil), r.far.d, r.far.pools.Events,
		&ConsumerOptions{Durable: "goexit-bad"})
	require.NoError(t, err)
	js, err := jetstream.New(connect(t, r.srv.ClientURL(), nil))
	require.NoError(t, err)
	subj := Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventExecReport)
	const bad = 3
	for i := range bad {
		_, err = js.Publish(closeCtx(t), subj, []byte{wire.Version, byte(schema.EventExecReport)}, jetstream.WithMsgID("junk-"+strconv.Itoa(i)))
		require.NoError(t, err)
	}
	r.goexited(t)
	const n = 3
	for i := range n {
		r.ingest.publish(t, execReport(i))
	}
	markers := 0
	for i := 0; i < n; {
		ev := next(t, r.got, anyEvent)
		switch ev.Type {
		case schema.EventGap:
			require.Equal(t, schema.EventExecReport, ev.Control.GapType)
			markers++
		case schema.EventExecReport:
			require.Equal(t, strconv.Itoa(1000+i), ev.Exec.TradeID.String(), "report %d", i)
			i++
		}
	}
	require.Equal(t, bad, markers)
	eventually(t, func() bool { return cons.Stats().Malformed == bad }, "malformed not counted: %+v", cons.Stats())
	r.close(t, cons)
	require.Equal(t, uint64(n), cons.Stats().ExecDelivered, "%+v", cons.Stats())
}
