package venuesim_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// A connection is the venue's from the moment its client holds the 101:
// every message made after the client's Dial returns reaches it, and
// Stats.Active, Inject and CloseAPI already count it. The venue
// registered a connection only after websocket.Accept had written the
// 101, so a message made in between went to no one (TestPauseHoldsStill
// had to wait for Stats.Active; s25 commit 2a42472). Market and WS-API
// connections, raw and combined, each checked at once after Dial, many
// times: the window was microseconds wide.
func TestS27RegisteredBeforeTheClientHoldsTheUpgrade(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 1, IncomingLimit: -1})
	defer v.Close()
	urls := []string{v.StreamURL("btcusdt@trade"), v.StreamURL("btcusdt@trade", "ethusdt@depth"), v.StreamURL(), v.APIURL()}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 400 {
		url := urls[i%len(urls)]
		before := v.Stats().Active
		c, _, err := websocket.Dial(ctx, url, nil)
		require.NoError(t, err)
		require.Equal(t, before+1, v.Stats().Active, "dial %d (%s): the client holds its 101 and the venue does not count the connection", i, url)
		require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
		require.Eventually(t, func() bool { return v.Stats().Active == before }, 30*time.Second, time.Millisecond)
	}
}

// The replay server counts a connection (Stats.Connections, Active)
// before its upgrade too: a client that holds its 101 finds it counted.
func TestS27ReplayCountsBeforeTheClientHoldsTheUpgrade(t *testing.T) {
	srv, err := venuesim.StartReplay([]string{writeRecording(t, "a")}, nil)
	require.NoError(t, err)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 200 {
		c, _, err := websocket.Dial(ctx, srv.URL(), nil)
		require.NoError(t, err)
		st := srv.Stats()
		require.EqualValues(t, i+1, st.Connections, "dial %d", i)
		require.EqualValues(t, 1, st.Active, "dial %d", i)
		_ = c.CloseNow()
		require.Eventually(t, func() bool { return srv.Stats().Active == 0 }, 30*time.Second, time.Millisecond)
	}
}
