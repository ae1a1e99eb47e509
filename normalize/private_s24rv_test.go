package normalize

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS24rvOKXAmendResultsAfterFill: every push of OKX's orders channel
// with an amendResult is the result of one amend-order request (OKX v5
// "Order channel": amendResult "-1" failure, "0" success; reqId "Client
// Request ID as assigned by the client for order amendment"; uTime the
// push's update time), and on a partly filled order each restates the
// last fill. A second failed amendment with the same reason as the first
// ("px too far" twice), and an amendment that changes neither px nor sz
// (amend-order's attachAlgoOrds: a new take-profit or stop-loss trigger
// price) are results the host waits for, not repeats; the same push
// again (the same uTime, on a second connection) is.
func TestS24rvOKXAmendResultsAfterFill(t *testing.T) {
	c := newConnFeed(t, ox)
	fill := okxOrderPush("partially_filled", "0.4", "-0.08", "")
	evs, err := c.feed(1, fill)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	push := func(amend, uTime string) string {
		return strings.Replace(strings.Replace(fill, `"amendResult":""`, `"amendResult":"`+amend+`"`, 1), `"uTime":"1646637216768"`, `"uTime":"`+uTime+`"`, 1)
	}
	one := func(conn uint64, msg string) schema.Execution {
		t.Helper()
		evs, err := c.feed(conn, msg)
		require.NoError(t, err)
		require.Len(t, evs, 1, "delivered")
		x := s42normExec(t, evs[0])
		require.True(t, x.LastFillQty.IsZero() && x.TradeID.IsZero(), "the fill is not counted twice")
		return x
	}
	x := one(1, push("-1", "1646637217000"))
	require.Equal(t, "px too far", x.RejectReason)
	x = one(1, push("-1", "1646637218000"))
	require.Equal(t, "px too far", x.RejectReason, "a second failed amendment, the same reason")
	require.NotEqual(t, schema.ExecAmendment, x.ExecType)

	x = one(1, push("0", "1646637219000"))
	require.Equal(t, schema.ExecAmendment, x.ExecType, "an amendment of the attached TP/SL: px and sz unchanged")
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)

	evs, err = c.feed(2, push("0", "1646637219000"))
	require.NoError(t, err)
	require.Empty(t, evs, "the same push on a second connection: a repeat")
	evs, err = c.feed(2, push("-1", "1646637218000"))
	require.NoError(t, err)
	require.Empty(t, evs, "an older push restated: a repeat")
}

// okxRepeatParser is an OKX parser that delivered fill once: every
// further HandleBytes of it takes the repeat path.
func okxRepeatParser(tb testing.TB) (*Parser, []byte) {
	events := schema.NewPools(nil).Events
	p := NewOKX(events, &putSink{events: events}, nil)
	fill := []byte(okxOrderPush("partially_filled", "0.4", "-0.08", ""))
	require.NoError(tb, p.HandleBytes(context.Background(), fill, 1))
	return p, fill
}

// TestS24rvOKXRepeatZeroAllocs: a restated fill (the repeat path that
// weighs amendments) allocates nothing.
func TestS24rvOKXRepeatZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	p, fill := okxRepeatParser(t)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(200, func() { _ = p.HandleBytes(ctx, fill, 2) })
	require.Zero(t, allocs)
	require.NotZero(t, p.Stats().Repeats)
}

// BenchmarkS24rvOKXRepeatedFill: an OKX orders push that restates a fill
// delivered before (dropped as a repeat).
func BenchmarkS24rvOKXRepeatedFill(b *testing.B) {
	p, fill := okxRepeatParser(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(fill)))
	for b.Loop() {
		_ = p.HandleBytes(ctx, fill, 2)
	}
}
