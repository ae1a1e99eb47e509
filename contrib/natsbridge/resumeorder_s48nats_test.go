package natsbridge

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// TestS48natsResumeStopsBeforeRemake: the durable consumer is gone without
// a word (no pull of it waited as it went: no "consumer deleted") and the
// Consume runs on; its missed heartbeats wake the resumer, which makes
// the consumer again after the last report handled. A Consume of nats.go
// sends a pull when its heartbeat timer fires or the connection is back,
// by the durable consumer's name and whatever Stop does meanwhile (its
// pull is not excluded by Stop), and Stop drops what it had received and
// not handed on. The resumer made the consumer again before it stopped
// the old Consume: a pull sent between the two reached the new consumer,
// which delivered report 1 into the old Consume; Stop dropped it, and to
// the server it waited for its ack — for AckWait (an hour here, 30 s by
// default), and every later report with it (MaxAckPending 1; above 1 the
// later ones came first). The old Consume is stopped first: its pull
// reaches no consumer. The old Consume here is a stand-in (pullAtStop)
// that sends its pull as Stop is called, the latest point of that window.
func TestS48natsResumeStopsBeforeRemake(t *testing.T) {
	const durable = "s48order"
	f := newFirstThenStopped(t, ConsumerOptions{Durable: durable, AckWait: time.Hour})
	// The stand-in takes the Consume's place before any trouble: the
	// resumer, woken by the trouble below, reads it.
	stand := newPullAtStop(t, f.cons.nc, f.js, durable)
	f.cons.cc = stand
	require.NoError(t, f.js.DeleteConsumer(waitCtx(t), DefaultStream, durable))
	storeReports(t, f.js, f.ingest, 1, 3)
	f.cons.execTrouble(jetstream.ErrNoHeartbeat)

	f.expect(t, "1001", "1002")
	require.True(t, stand.stopped(), "the old Consume stopped")
	require.Zero(t, f.cons.Stats().ExecDuplicate)
	f.close(t, 3)
}

// pullAtStop stands in for a Consume of durable on nc: an inbox of its
// own, and at Stop one pull of two reports into it, sent on nc as a
// Consume's heartbeat timer sends one, waited for until the durable
// consumer has delivered into it (NumAckPending) or is not there; then
// the inbox is dropped with what it received, as Stop drops a Consume's
// buffer.
type pullAtStop struct {
	t       *testing.T
	nc      *nats.Conn
	js      jetstream.JetStream
	durable string
	sub     *nats.Subscription
	once    sync.Once
	closed  chan struct{}
}

func newPullAtStop(t *testing.T, nc *nats.Conn, js jetstream.JetStream, durable string) *pullAtStop {
	sub, err := nc.SubscribeSync(nc.NewInbox())
	require.NoError(t, err)
	return &pullAtStop{t: t, nc: nc, js: js, durable: durable, sub: sub, closed: make(chan struct{})}
}

// Stop runs on the resumer's goroutine: no require (FailNow) there.
func (p *pullAtStop) Stop() {
	p.once.Do(func() {
		defer close(p.closed)
		defer func() { _ = p.sub.Unsubscribe() }()
		subj := "$JS.API.CONSUMER.MSG.NEXT." + DefaultStream + "." + p.durable
		if err := p.nc.PublishRequest(subj, p.sub.Subject, []byte(`{"batch":2,"expires":10000000000}`)); err != nil {
			p.t.Errorf("the stand-in's pull: %v", err)
			return
		}
		if err := p.nc.Flush(); err != nil {
			p.t.Errorf("the stand-in's pull: %v", err)
			return
		}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		timeout := time.After(generous)
		for {
			jc, err := p.js.Consumer(waitCtx(p.t), DefaultStream, p.durable)
			switch {
			case errors.Is(err, jetstream.ErrConsumerNotFound):
				return // nothing took the pull
			case err == nil && jc.CachedInfo().NumAckPending > 0:
				return // delivered into the inbox
			}
			select {
			case <-tick.C:
			case <-timeout:
				p.t.Errorf("the stand-in's pull neither delivered nor refused within %v", generous)
				return
			}
		}
	})
}

func (p *pullAtStop) Drain() { p.Stop() }

func (p *pullAtStop) Closed() <-chan struct{} { return p.closed }

func (p *pullAtStop) stopped() bool {
	select {
	case <-p.closed:
		return true
	default:
		return false
	}
}
