package natsbridge

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS38natsPurgeNextReportAtOnce: report 0 is in the Consumer's hands
// (its host's event pool exhausted) when a purge removes it with reports 1
// and 2. The server forgets report 0 as delivered and waiting for its ack
// without waking the durable consumer's delivery loop, and the ack that
// follows, of a report it no longer waits for, wakes nothing either: the
// loop, held by MaxAckPending (1), slept until its next idle heartbeat (5 s,
// half the pull's expiry) — the report stream stalled, whatever was
// published meanwhile. A pull request wakes it (nats-server
// processNextMsgRequest): the Consume pulls again for every report handled.
// The wire, watched by a connection of the test's own, shows the order:
// report 0's ack, a pull request, then report 3 — no idle heartbeat first.
func TestS38natsPurgeNextReportAtOnce(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 4)
	type seen struct{ kind, seq string }
	wire := make(chan seen, 1024)
	spy := connect(t, srv.ClientURL(), nil)
	_, err := spy.Subscribe(">", func(m *nats.Msg) {
		switch {
		case strings.HasPrefix(m.Subject, "$JS.ACK."+DefaultStream+".s38stall."):
			wire <- seen{"ack", ackStreamSeq(m.Subject)}
		case m.Subject == "$JS.API.CONSUMER.MSG.NEXT."+DefaultStream+".s38stall":
			wire <- seen{"pull", ""}
		case m.Header.Get("Status") == "100":
			wire <- seen{"heartbeat", ""}
		case strings.HasPrefix(m.Reply, "$JS.ACK."+DefaultStream+".s38stall."):
			wire <- seen{"report", ackStreamSeq(m.Reply)}
		}
	})
	require.NoError(t, err)
	require.NoError(t, spy.Flush())

	far, got, cons := reportInHand(t, srv.ClientURL(), nil, ConsumerOptions{Durable: "s38stall"})
	st, err := js.Stream(waitCtx(t), DefaultStream)
	require.NoError(t, err)
	require.NoError(t, st.Purge(waitCtx(t), jetstream.WithPurgeSequence(4)), "reports 0 to 2 purged")
	far.release()
	require.Equal(t, "1000", next(t, got, anyEvent).Exec.TradeID.String())
	require.Equal(t, schema.EventGap, next(t, got, anyEvent).Type)
	require.Equal(t, "1003", next(t, got, anyEvent).Exec.TradeID.String())

	// From report 0's ack to report 3's delivery.
	var order []string
	for acked := false; ; {
		s := <-wire
		if s.kind == "ack" && s.seq == "1" {
			acked = true
		}
		if !acked || s.kind == "ack" {
			continue
		}
		order = append(order, s.kind)
		if s.kind == "report" && s.seq == "4" {
			break
		}
	}
	require.Equal(t, []string{"pull", "report"}, order, "report 3 waited for the server's idle heartbeat")

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}

// ackStreamSeq returns the stream sequence token of a JetStream ack
// subject ($JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.…).
func ackStreamSeq(subj string) string {
	tokens := strings.Split(subj, ".")
	if len(tokens) < 6 {
		return ""
	}
	return tokens[5]
}
