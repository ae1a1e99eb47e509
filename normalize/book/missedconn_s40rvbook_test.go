package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// wsclient numbers a rotation's standby connection as it dials it: one
// that fails before it goes live (Prepare's error, its death before the
// switch) takes a number no Connected names. After a loss reported (the
// rotation's old connection died meanwhile), the next connection's
// Connected, seen after dropped events, names a connection past the next
// one: the loss made up for it must not break the book live on that
// connection's own frames (applied before its Connected was handled).
func TestS40rvbookFailedStandbyAfterALossKeepsTheNextConnectionLive(t *testing.T) {
	b, _, events, books := newOKXBooks(t)
	on := books.OnEvent(schema.VenueOKX, nil)
	ctx := context.Background()
	on(wsclient.Event{State: schema.ConnConnected, ConnID: 1, IngestTS: 100})
	on(wsclient.Event{State: schema.ConnRotating, Reason: wsclient.ReasonRotation, ConnID: 1, IngestTS: 150})
	on(wsclient.Event{State: schema.ConnDisconnected, Reason: wsclient.ReasonReadError, ConnID: 1, IngestTS: 300})
	// Connection 2, the standby, failed; connection 3's snapshot comes
	// before its Connected is handled.
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 500)))
	require.True(t, b.Live())
	on(wsclient.Event{State: schema.ConnConnected, ConnID: 3, Dropped: 1, IngestTS: 450})
	require.True(t, b.Live(), "live on the connection the event names, broken by a loss made up for an earlier one")
}
