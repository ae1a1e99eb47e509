package natsbridge

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS35natsCloseWhileAckSentAgain: Close comes while the ack of a report
// handed on is being sent again (each one swallowed, as by a dying link).
// With time to spare, Close waits for the ack's confirmation: the next
// incarnation of the Durable does not get that report again — exactly
// once across a Consumer's restart. With a ctx that has ended, Close
// returns at once (not after AckWait, 1 h here), says what it could not
// finish, and the unconfirmed report comes again to the next incarnation
// (at least once: its ack was never confirmed), before the next one.
func TestS35natsCloseWhileAckSentAgain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		short bool
	}{{"ctx with time", false}, {"ctx ended", true}} {
		t.Run(tc.name, func(t *testing.T) {
			d := &s35LossDialer{lost: make(chan struct{})}
			b := newS35Bridge(t, "s35close", 0, func(addr string) nats.CustomDialer { d.addr = addr; return d })
			d.hold.Store(true)
			b.ingest.publish(t, execReport(0))
			b.nextReport(t, 0)
			eventually(t, func() bool { return d.swallowed.Load() >= 2 }, "report 0's ack sent again")

			ctx, cancel := context.WithTimeout(context.Background(), generous)
			if tc.short {
				cancel()
			}
			defer cancel()
			closed := make(chan error, 1)
			go func() { closed <- b.cons.Close(ctx) }()
			if !tc.short {
				eventually(t, b.cons.closed.Load, "closing")
				d.hold.Store(false)
			}
			select {
			case err := <-closed:
				if tc.short {
					assert.True(t, errors.Is(err, context.Canceled), "Close says what it could not finish: %v", err)
				} else {
					require.NoError(t, err)
				}
			case <-time.After(generous):
				t.Fatal("Close waits for the ack past its ctx")
			}
			st := b.cons.Stats()
			require.Equal(t, uint64(1), st.ExecDelivered, "%+v", st)
			if tc.short {
				require.Equal(t, uint64(1), st.AckErrors, "%+v", st)
			} else {
				require.Zero(t, st.AckErrors, "%+v", st)
			}
			d.hold.Store(false)
			b.far.close(t)

			// The next incarnation, on a connection of its own.
			far := newNode(t)
			got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
			cons, err := NewConsumer(waitCtx(t), connect(t, b.srv.ClientURL(), nil), far.d, far.pools.Events,
				&ConsumerOptions{Durable: "s35close", AckWait: time.Hour})
			require.NoError(t, err)
			b.ingest.publish(t, execReport(1))
			first := 1
			if tc.short {
				first = 0 // its ack never confirmed
			}
			for i := first; i < 2; i++ {
				ev := next(t, got, ofType(schema.EventExecReport))
				require.Equal(t, uint64(1000+i), mustUint(t, ev.Exec.TradeID.String()), "report %d next", i)
			}
			require.NoError(t, b.pub.Close(closeCtx(t)))
			require.NoError(t, cons.Close(closeCtx(t)))
			require.Equal(t, uint64(2-first), cons.Stats().ExecDelivered, "%+v", cons.Stats())
			select {
			case ev := <-got:
				require.Failf(t, "a report twice", "%v", ev.Exec.TradeID)
			default:
			}
			b.ingest.close(t)
			far.close(t)
		})
	}
}
