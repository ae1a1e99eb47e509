package natsbridge

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// TestS34rvwireRefusalCostsNothing: under WireVersion 8 (a rolling
// upgrade, for as long as it takes) every Binance 1h/4h/1d ticker is
// refused and counted on the dispatcher's delivery goroutine, once a
// second per symbol and window. Counting it built the log's arguments
// every time (the slice and three strings boxed: 4 allocations per
// refused ticker), though it logs only at each doubling of the total.
func TestS34rvwireRefusalCostsNothing(t *testing.T) {
	var logged bytes.Buffer
	p := &Publisher{layout: wire.Version8, log: slog.New(slog.NewTextHandler(&logged, nil))}
	ev := &schema.CanonicalEvent{}
	s34wireTicker("1h", 1)(ev)
	p.handle(ev)
	allocs := testing.AllocsPerRun(1000, func() { p.handle(ev) })
	require.Zero(t, allocs, "allocations per refused ticker")
	require.Equal(t, uint64(1002), p.unwritable.load())
	// Still logged at the first and each doubling: 1, 2, 4, ..., 512.
	require.Equal(t, 10, strings.Count(logged.String(), "tickers of a rolling window not published"))
	require.Contains(t, logged.String(), "window=1h")
}
