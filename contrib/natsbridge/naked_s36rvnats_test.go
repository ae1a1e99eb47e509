package natsbridge

import (
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS36rvnatsNakedThenPurgedForgotten: a report handed back (Nak: the
// host's event pool exhausted) and removed from the stream before it came
// again stayed noted as handed back for ever (execNaked). When the durable
// consumer was then gone and made again, it started at that report — gone,
// so at the stream's first — and delivered again every report handled
// since: dropped by their ids while the dedup held them, past its
// ConsumerOptions.Dedup ids handed on twice. A report the stream no longer
// holds does not come again: forgotten when the consumer is made again,
// and announced (it was never handed on) before the next report.
func TestS36rvnatsNakedThenPurgedForgotten(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 0)
	st, err := js.Stream(waitCtx(t), DefaultStream)
	require.NoError(t, err)

	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 64)
	_, err = far.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	far.hold(0)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events,
		&ConsumerOptions{Durable: "s36naked", AckWait: generous, PoolWait: 20 * time.Millisecond})
	require.NoError(t, err)
	for i := range 4 {
		ingest.publish(t, execReport(i))
	}
	eventually(t, func() bool { return nakedHas(cons, 1) }, "report 0 handed back")
	require.NoError(t, st.Purge(waitCtx(t), jetstream.WithPurgeSequence(2)), "report 0 purged")
	// Report 1 handed back: every delivery of report 0 before it is done.
	eventually(t, func() bool { return nakedHas(cons, 2) }, "report 1 handed back")
	far.release()
	// Report 0 is announced once: found gone when report 1 came first
	// (nakedPassed) or, at the latest, when the consumer is made again.
	gaps := 0
	for i := 1; i < 4; i++ {
		ev := next(t, got, anyEvent)
		if ev.Type == schema.EventGap {
			gaps++
			i--
			continue
		}
		require.Equal(t, strconv.Itoa(1000+i), ev.Exec.TradeID.String(), "report %d", i)
	}
	eventually(t, func() bool { return cons.Stats().ExecDelivered == 3 }, "reports 1 to 3 acknowledged")

	require.NoError(t, js.DeleteConsumer(waitCtx(t), DefaultStream, "s36naked"))
	eventually(t, func() bool { return cons.Stats().ExecResumed == 1 }, "the durable consumer made again")
	ingest.publish(t, execReport(4))
	for {
		ev := next(t, got, anyEvent)
		if ev.Type != schema.EventGap {
			require.Equal(t, "1004", ev.Exec.TradeID.String(), "reports 1 to 3 not delivered again")
			break
		}
		require.Equal(t, schema.EventExecReport, ev.Control.GapType)
		require.Equal(t, uint64(1), ev.Control.GapCount)
		gaps++
	}
	require.Equal(t, 1, gaps, "report 0, handed back and purged, announced once")
	require.False(t, nakedHas(cons, 1), "report 0 purged: forgotten")

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	stats := cons.Stats()
	require.Equal(t, uint64(4), stats.ExecDelivered, "%+v", stats)
	require.Zero(t, stats.ExecDuplicate, "reports 1 to 3 not delivered again: %+v", stats)
	require.Equal(t, uint64(1), stats.ExecLost, "report 0, handed back and purged, announced: %+v", stats)
	ingest.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}

// TestS36rvnatsNakedThenPurgedAnnounced: a report handed back (Nak: the
// host's event pool exhausted) and removed from the stream before it came
// again is skipped by the server without a word: it was never handed on,
// and its loss was not announced while the durable consumer lived. The
// server delivering a later report for the first time while it is handed
// back makes the Consumer ask the stream for it: gone, it is announced (a
// gap marker, ExecLost) before the next report after that look, and
// forgotten.
func TestS36rvnatsNakedThenPurgedAnnounced(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 0)
	st, err := js.Stream(waitCtx(t), DefaultStream)
	require.NoError(t, err)

	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 64)
	_, err = far.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	far.hold(0)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events,
		&ConsumerOptions{Durable: "s36nakedlive", AckWait: generous, PoolWait: 20 * time.Millisecond})
	require.NoError(t, err)
	for i := range 4 {
		ingest.publish(t, execReport(i))
	}
	eventually(t, func() bool { return nakedHas(cons, 1) }, "report 0 handed back")
	require.NoError(t, st.Purge(waitCtx(t), jetstream.WithPurgeSequence(2)), "report 0 purged")
	eventually(t, func() bool { return cons.Stats().ExecLost == 1 && !nakedHas(cons, 1) }, "report 0 found removed")
	far.release()
	ingest.publish(t, execReport(4))
	var reports []string
	gaps := 0
	for len(reports) == 0 || reports[len(reports)-1] != "1004" {
		ev := next(t, got, anyEvent)
		if ev.Type == schema.EventGap {
			require.Equal(t, schema.EventExecReport, ev.Control.GapType)
			require.Equal(t, uint64(1), ev.Control.GapCount)
			gaps++
			continue
		}
		reports = append(reports, ev.Exec.TradeID.String())
	}
	require.Equal(t, []string{"1001", "1002", "1003", "1004"}, reports)
	require.Equal(t, 1, gaps, "report 0 announced once")

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	stats := cons.Stats()
	require.Equal(t, uint64(4), stats.ExecDelivered, "%+v", stats)
	require.Equal(t, uint64(1), stats.ExecLost, "%+v", stats)
	require.Zero(t, stats.ExecDuplicate, "%+v", stats)
	ingest.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}

func nakedHas(c *Consumer, seq uint64) bool {
	c.execMu.Lock()
	defer c.execMu.Unlock()
	_, ok := c.execNaked[seq]
	return ok
}
