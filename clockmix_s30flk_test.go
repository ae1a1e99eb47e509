package meltica_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// A session's live Binance book dropped by the venue is invalidated by
// the loss itself (a gap marker with book.ReasonReconnect: Books.OnEvent,
// "disconnected, reconnecting or closed invalidate them at once"), not
// only by the id gap the new connection's diffs show — with the real
// clock and with a clock the host injected (wsclient.Options.Clock).
//
// Found by s30flk (the cause of TestS28ctThousandReconnectsStayFlat's
// flake): wsclient stamped a state event's At on Options.Clock but a
// frame's ReceivedAt on the wall clock, and Book.Apply ignores a loss
// whose IngestTS is older than the latest data that proved the book good
// (the frames' ReceivedAt). On an injected clock behind the wall clock
// every loss was taken for "news of an earlier connection": the book
// stayed Live across the disconnection, and since no loss ended its
// resync run, the upstream gaps that followed backed it off up to 64 ×
// RetryInterval (the long-life test's book stayed dark 60 s after its
// 1,000th reconnect). A loss now carries wsclient.Event.IngestTS, on its
// connection's frame clock.
func TestS30flkLiveBookInvalidatedByTheLossOnAnyClock(t *testing.T) {
	for _, injected := range []bool{false, true} {
		name := "real clock"
		if injected {
			name = "injected clock"
		}
		t.Run(name, func(t *testing.T) {
			var clk wsclient.Clock
			if injected {
				clk = newS27ctClock()
			}
			s30flkLossInvalidates(t, clk)
		})
	}
}

func s30flkLossInvalidates(t *testing.T, clk wsclient.Clock) {
	ctx := context.Background()
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 400, PingInterval: -1, IncomingLimit: -1})
	defer v.Close()
	conns := &s28ctConnected{ch: make(chan struct{}, 1)}
	markers := make(chan string, 64)
	armed := make(chan struct{})
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"depth@100ms"},
		Client: wsclient.Options{Clock: clk, Rand: func(int64) int64 { return 0 },
			PingInterval: -1, IdleTimeout: -1, ControlRate: -1, CloseTimeout: -1},
		OnState: conns.on,
		Subscribe: func(d *dispatch.Dispatcher) error {
			_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventGap}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
				if ev.Control.GapType != schema.EventBookUpdate {
					return // the session's own loss marker, not the book's
				}
				select {
				case <-armed:
				default:
					return // before the drop: the book's start
				}
				select {
				case markers <- ev.Control.Reason:
				default:
				}
			}})
			return err
		},
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close(ctx)) }()
	conns.await(t, 1)
	require.Eventually(t, func() bool { st := s.Stats(); return len(st.Books) == 1 && st.Books[0].Live }, s27ctWait, time.Millisecond, "the book live")
	close(armed)
	require.Eventually(t, func() bool { return v.Inject(venuesim.FaultClose) > 0 }, s27ctWait, time.Millisecond, "the venue holds the connection")
	conns.await(t, 2)
	var seen []string
	deadline := time.After(s27ctWait)
	for {
		select {
		case reason := <-markers:
			if reason == book.ReasonReconnect {
				return
			}
			seen = append(seen, reason)
		case <-deadline:
			t.Fatalf("the loss never invalidated the live book (its markers after the drop: %q): %+v", seen, s.Stats().Books)
		}
	}
}
