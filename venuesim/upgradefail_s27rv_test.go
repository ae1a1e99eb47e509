package venuesim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// s27rvPlainGet requests a WebSocket endpoint without the upgrade
// headers: websocket.Accept refuses it after the venue registered the
// connection.
func s27rvPlainGet(t *testing.T, wsURL string) {
	t.Helper()
	resp, err := http.Get("http" + strings.TrimPrefix(wsURL, "ws"))
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.NotEqual(t, http.StatusSwitchingProtocols, resp.StatusCode)
}

// A connection registered before its upgrade whose upgrade fails leaves
// the venue again: not counted in Stats.Connections or Active, and its
// goroutines gone (goleak in TestMain).
func TestS27rvUpgradeFailureLeavesNothing(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 1, IncomingLimit: -1})
	defer v.Close()
	for _, u := range []string{v.StreamURL("btcusdt@trade"), v.StreamURL("btcusdt@trade", "ethusdt@depth"), v.StreamURL(), v.APIURL()} {
		s27rvPlainGet(t, u)
	}
	st := v.Stats()
	assert.Zero(t, st.Active, "a connection whose upgrade failed is still open")
	assert.Zero(t, st.Connections, "a connection whose upgrade failed is counted accepted")
}

// The replay server's count before its upgrade is undone likewise.
func TestS27rvReplayUpgradeFailureLeavesNothing(t *testing.T) {
	srv, err := venuesim.StartReplay([]string{writeRecording(t, "a")}, nil)
	require.NoError(t, err)
	defer srv.Close()
	s27rvPlainGet(t, srv.URL())
	st := srv.Stats()
	assert.Zero(t, st.Active, "a connection whose upgrade failed is still open")
	assert.Zero(t, st.Connections, "a connection whose upgrade failed is counted accepted")
}
