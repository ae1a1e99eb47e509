package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestS39natsRemakeFromUnhandled: report 0 was delivered to another reader
// of the Durable (a sharer, or this node's link that died) and never
// acknowledged; the Consumer handled report 2 after it. An operator then
// deletes the durable consumer, and the Consumer makes it again itself —
// after the last report it handled (min of those handed back and the last
// handled + 1): report 0, which no one handed on, was never delivered
// again, lost without a marker. It starts at the first report it did not
// handle (the lowest of its gaps); what it handled there is dropped by
// stream sequence, as after an operator's remake.
func TestS39natsRemakeFromUnhandled(t *testing.T) {
	u := unhandledBelow(t, "s39gap")
	require.NoError(t, u.js.DeleteConsumer(waitCtx(t), DefaultStream, "s39gap"))
	eventually(t, func() bool { return u.cons.Stats().ExecResumed > 0 }, "the Consumer made its durable consumer again")
	u.ingest.publish(t, execReport(3))
	var ids []string
	for len(ids) == 0 || ids[len(ids)-1] != "1003" {
		ids = append(ids, next(t, u.got, anyEvent).Exec.TradeID.String())
	}
	require.Contains(t, ids, "1000", "report 0, never handed on, not delivered again: %v", ids)
	require.NotContains(t, ids, "1002", "report 2, handled, delivered again: %v", ids)

	require.NoError(t, u.pub.Close(closeCtx(t)))
	require.NoError(t, u.cons.Close(closeCtx(t)))
	u.ingest.close(t)
	u.far.close(t)
}
