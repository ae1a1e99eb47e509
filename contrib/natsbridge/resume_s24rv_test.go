package natsbridge

// Review s24rv: the stream of execution reports deleted and made again by
// an operator, as the operator wants it. nats-server refuses to update a
// stream's storage type (and a few other fields): "stream configuration
// update can not change storage type" (jetstream_api.go, "JetStream
// Streams: Configuration", docs.nats.io: "Storage ... cannot be changed
// after creation"). An operator deploying streams and consumers as
// declarative configuration (nack, the terraform provider) makes both
// again, with their own settings.

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// failures is a slog handler that counts the Consumer's failed tries to
// make its durable consumer again, on a channel.
type failures chan struct{}

func (f failures) Enabled(context.Context, slog.Level) bool { return true }
func (f failures) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "making it again failed") {
		f <- struct{}{}
	}
	return nil
}
func (f failures) WithAttrs([]slog.Attr) slog.Handler { return f }
func (f failures) WithGroup(string) slog.Handler      { return f }

func durableSubjects() []string {
	var subjects []string
	for _, t := range durableTypes {
		subjects = append(subjects, DefaultPrefix+".*.*."+t.String())
	}
	return subjects
}

// The operator makes the stream again on memory storage (it was on file):
// a stream the Consumer would have made differently, which it cannot
// update to its own settings, but which holds the reports as well
// (checkStream accepts it). The Consumer must read it, not retry for ever
// to make it its way while the reports stop.
func TestS24rvStreamMadeAgainOtherStorage(t *testing.T) {
	r := newDurableRig(t, StreamOptions{})
	r.report(0)
	r.acked("s24", 1)
	for { // the operator's stream, not one the Consumer made first
		require.NoError(t, r.js.DeleteStream(waitCtx(t), DefaultStream))
		_, err := r.js.CreateStream(waitCtx(t), jetstream.StreamConfig{Name: DefaultStream, Subjects: durableSubjects(), Storage: jetstream.MemoryStorage})
		if err == nil {
			break
		}
		require.ErrorIs(t, err, jetstream.ErrStreamNameAlreadyInUse)
	}
	r.report(1)
	r.report(2)
	r.close()
	assert.Equal(t, uint64(3), r.cons.Stats().ExecDelivered)
}

// The operator deletes the stream and makes it again with the durable
// consumer (declarative configuration): the Consumer goes on with that
// consumer, which reads the new stream from its start. Where it is in the
// stream is then counted anew: when that consumer is deleted later, the
// Consumer makes it again after the last report it handled in the new
// stream, not after the last of the old one (whose sequences were higher:
// the reports between would be skipped, lost).
func TestS24rvOperatorMakesStreamAndConsumerAgain(t *testing.T) {
	srv := startServer(t)
	js, err := jetstream.New(connect(t, srv.ClientURL(), nil))
	require.NoError(t, err)
	cfg := jetstream.StreamConfig{Name: DefaultStream, Subjects: durableSubjects(), Storage: jetstream.MemoryStorage}
	_, err = js.CreateStream(waitCtx(t), cfg)
	require.NoError(t, err)
	stream := StreamOptions{NoCreate: true}
	r := &durableRig{t: t, ingest: newNode(t), far: newNode(t), js: js}
	r.pub, err = NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), r.ingest.d, &PublisherOptions{Stream: stream})
	require.NoError(t, err)
	r.got = r.far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	failed := make(failures, 64)
	r.cons, err = NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), r.far.d, r.far.pools.Events,
		&ConsumerOptions{Durable: "s24", Stream: stream, Logger: slog.New(failed)})
	require.NoError(t, err)
	for i := range 6 {
		r.report(i)
	}
	r.acked("s24", 6)

	require.NoError(t, js.DeleteStream(waitCtx(t), DefaultStream))
	// The Consumer tries to make its consumer again and fails (no stream:
	// the operator's). Right after its 4th failure it waits 400 ms: the
	// operator makes both meanwhile.
	for range 4 {
		select {
		case <-failed:
		case <-waitCtx(t).Done():
			t.Fatal("the Consumer never tried to make its consumer again")
		}
	}
	_, err = js.CreateStream(waitCtx(t), cfg)
	require.NoError(t, err)
	_, err = js.CreateConsumer(waitCtx(t), DefaultStream, jetstream.ConsumerConfig{Durable: "s24", AckPolicy: jetstream.AckExplicitPolicy,
		FilterSubjects: []string{DefaultPrefix + ".>"}, MaxAckPending: 1})
	require.NoError(t, err)
	r.report(6) // stream sequence 1
	r.report(7) // 2
	r.acked("s24", 2)
	require.NoError(t, js.DeleteConsumer(waitCtx(t), DefaultStream, "s24"))
	r.report(8) // 3: skipped if made again at the old stream's 7
	r.close()
	assert.Equal(t, uint64(9), r.cons.Stats().ExecDelivered)
}
