package session_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// A book is not live once its connection's successor delivers a frame,
// even while the connection events wait behind a host's OnState that has
// not returned (wsclient hands events to OnEvent on a goroutine of their
// own, the books' included): the outside team's remark — with a 1 ms
// backoff, Stats named the new connection while Session.Book(sym).Live()
// was still true from the lost one. The venue is paused, so the new
// connection brings no diff that would break the book by its ids: only
// its subscription's answer. Before, the book stayed live until OnState
// returned.
func TestS37rvsessBookNotLiveOnceTheNewConnectionSpeaks(t *testing.T) {
	v := startVenue(t)
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	held := make(chan struct{})
	var heldOnce sync.Once
	s := start(t, session.Config{
		Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"depth@100ms"},
		Client: fastRedial,
		OnState: func(c session.Conn, e wsclient.Event) {
			if c.Role == session.RoleMarket && e.State == schema.ConnConnected {
				heldOnce.Do(func() {
					close(held)
					<-release // the host's handler, slow: every later event waits
				})
			}
		},
	})
	t.Cleanup(func() { once.Do(func() { close(release) }) }) // before start's Close
	select {
	case <-held:
	case <-time.After(generous):
		t.Fatal("the first connection's Connected never reached OnState")
	}
	waitConnected(t, s)
	b := s.Book("BTC-USDT")
	require.NotNil(t, b)
	require.True(t, b.Live())
	v.Pause(true)

	first := s.Stats().Market[0].Client.ConnID
	before := s.Stats().Market[0].Client.Messages
	require.Equal(t, 1, v.Inject(venuesim.FaultClose))
	require.Eventually(t, func() bool {
		st := s.Stats().Market[0].Client
		return st.ConnID > first && st.Messages > before
	}, generous, pollEvery, "the new connection delivered a frame")
	assert.Eventually(t, func() bool { return !b.Live() }, generous, pollEvery,
		"the book of the lost connection is not live once the new connection delivered a frame, OnState still held")
	once.Do(func() { close(release) })
}
