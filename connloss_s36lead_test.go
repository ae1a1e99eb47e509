package meltica_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// A reconnection's loss is announced before the new connection's first
// trade even while the connection events wait behind a host's OnState
// that has not returned (wsclient hands events to OnEvent on a goroutine
// of their own, and the host's OnState runs on it): the session's frame
// path announces a loss its event has not yet. Before, the marker came
// only once OnState returned — after the new connection's trades, trades
// 4 and 5 lost unannounced (the cause of TestS36ctOKXMarketLossAnnounced's
// 1 run in 20 under -race, made certain here).
func TestS36leadLossAnnouncedBeforeTheNewConnectionsTrades(t *testing.T) {
	m := newS36ctOKXMarket(t)
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	held := make(chan struct{})
	var heldOnce sync.Once
	s := m.start(t, func(cfg *session.Config) {
		cfg.OnState = func(c session.Conn, e wsclient.Event) {
			if c.Role == session.RoleMarket && e.State == schema.ConnConnected {
				heldOnce.Do(func() {
					close(held)
					<-release // the host's handler, slow: every later event waits
				})
			}
		}
	})
	tape := subscribeTape(t, s)
	select {
	case <-held:
	case <-time.After(s27ctWait):
		t.Fatal("the first connection's Connected never reached OnState")
	}
	require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond)
	tape.waitTrade(t, m.publish(3))

	old := m.subscribed()[0]
	m.drop(old)
	old.cut()
	m.lose(2) // trades 4, 5: made while the session had no connection
	require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond, "resubscribed after the loss")
	tape.waitTrade(t, m.publish(3))
	assert.Positive(t, tape.check(t), "the loss announced before trade 6, with OnState still held: %v", tape)
	once.Do(func() { close(release) })
}
