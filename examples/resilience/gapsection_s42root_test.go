package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS42rootGapHandlerMarkerWithoutControl: since issue #15 a gap
// marker's Control is nil unless the marker carries it. The handler reads
// a marker without it as one that names no range: it still resyncs the
// symbol, says so, and does not panic; and it leaves the marker as it was
// (a reader makes no section).
func TestS42rootGapHandlerMarkerWithoutControl(t *testing.T) {
	var out bytes.Buffer
	gaps := make(chan gapSeen, 1)
	handle := gapHandler(&out, []string{"BTC-USDT", "ETH-USDT"}, gaps)
	ev := &schema.CanonicalEvent{Type: schema.EventGap, Venue: schema.VenueBinance, Symbol: "ETH-USDT"}
	assert.NotPanics(t, func() { handle(ev) })
	require.Len(t, gaps, 1)
	assert.Equal(t, gapSeen{resync: []string{"ETH-USDT"}}, <-gaps)
	assert.Contains(t, out.String(), "resync ETH-USDT")
	assert.Nil(t, ev.Control, "the handler made no Control section")
}
