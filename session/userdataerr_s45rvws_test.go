package session_test

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS45rvwsBybitTradeLoginKeepsTheSubscriptionRefusal: Bybit's private
// channels connection has its "order" topic refused (Bybit v5 private
// WebSocket: the subscribe answer's success false, with ret_msg), and
// then its trade connection logs in (the auth answer's retCode 0). The
// private side is not ready — the subscription is not in effect — and
// the refusal stays where WaitOrdersReady and WaitConnected read it until
// the private channels connection itself is subscribed or tries again.
// Before, the trade connection's login cleared every refusal on the
// board (setReady): WaitOrdersReady waited for a readiness that the
// refused subscription could not bring, with no error, until the retry.
func TestS45rvwsBybitTradeLoginKeepsTheSubscriptionRefusal(t *testing.T) {
	c, f, release, released := s45bybitOrderRefused(t)
	f.alterTrade = func(_ int, msg []byte, replies []string) []string {
		if bytes.Contains(msg, []byte(`"op":"auth"`)) {
			<-release // the trade auth answered once the refusal is on the board
		}
		return replies
	}
	clk := newManualClock() // the refusal's retry (a backoff on the clock) never fires
	s := startOrders(t, c, f, func(cfg *session.Config) { cfg.Client.Clock = clk })

	refusal := func() error {
		var lerr *session.LoginError
		err := ordersReadyNow(s)
		if errors.As(err, &lerr) && lerr.Step == "subscribe" && lerr.Channel == "order" {
			return err
		}
		return nil
	}
	require.Eventually(t, func() bool { return refusal() != nil }, generous, pollEvery, "the order topic refused")
	require.False(t, s.TradeReady())
	released()
	require.Eventually(t, s.TradeReady, generous, pollEvery, "the trade connection logged in")

	err := ordersReadyNow(s)
	var lerr *session.LoginError
	require.ErrorAs(t, err, &lerr, "the refused subscription is still refused")
	assert.Equal(t, "subscribe", lerr.Step)
	assert.Equal(t, "order", lerr.Channel)
	assert.False(t, s.PrivateChannelsReady())
}

// TestS45rvwsBybitRefusalsOfBothConnectionsBothTold: Bybit's trade
// connection's auth is refused (retCode 10004), then the private channels
// connection's "order" topic (the board's refusal now). The private
// channels connection is then lost: its refusal goes with it, and the
// trade connection's, still refused (its retry waits out the backoff),
// is the one WaitOrdersReady returns again. Before, the first connection
// to clear its refusal cleared the board, whichever connection's refusal
// it held: WaitOrdersReady waited with no error while the trade
// connection stayed refused.
func TestS45rvwsBybitRefusalsOfBothConnectionsBothTold(t *testing.T) {
	c, f, release, released := s45bybitOrderRefused(t)
	privConn := make(chan int, 1)
	f.alter = func(conn int, msg []byte, replies []string) []string {
		if bytes.Contains(msg, []byte(`"op":"subscribe"`)) && bytes.Contains(msg, []byte(`"order"`)) {
			<-release // refused once the trade auth's refusal is on the board
			select {
			case privConn <- conn:
			default:
			}
		}
		return replies
	}
	f.alterTrade = func(_ int, msg []byte, replies []string) []string {
		if bytes.Contains(msg, []byte(`"op":"auth"`)) {
			return []string{`{"retCode":10004,"retMsg":"Invalid sign","op":"auth","connId":"x"}`}
		}
		return replies
	}
	clk := newManualClock() // the retries (backoffs on the clock) never fire
	s := startOrders(t, c, f, func(cfg *session.Config) { cfg.Client.Clock = clk })

	step := func() string {
		var lerr *session.LoginError
		if errors.As(ordersReadyNow(s), &lerr) {
			return lerr.Step + " " + lerr.Channel
		}
		return ""
	}
	require.Eventually(t, func() bool { return step() == "trade login " }, generous, pollEvery, "the trade auth refused")
	released()
	require.Eventually(t, func() bool { return step() == "subscribe order" }, generous, pollEvery, "the order topic refused")

	conn := <-privConn
	require.NoError(t, f.connNumbered(conn).CloseNow())
	require.Eventually(t, func() bool { return step() != "subscribe order" }, generous, pollEvery, "the private channels connection lost")
	assert.Equal(t, "trade login ", step(), "the trade connection, still refused, says so")
	assert.False(t, s.TradeReady())
}

// s45bybitOrderRefused is a fake Bybit whose private channels connection
// has its "order" topic refused, and a gate (release, closed by released,
// or at the test's end) for the test's held answers.
func s45bybitOrderRefused(t *testing.T) (c orderCase, f *fakePrivate, release chan struct{}, released func()) {
	t.Helper()
	c = orderCases()[1]
	require.Equal(t, schema.VenueBybit, c.venue)
	f = newFakePrivate(t, c.venue, nil)
	f.refuseSub = func(_ int, channel string) bool { return channel == "order" }
	release = make(chan struct{})
	var once sync.Once
	released = func() { once.Do(func() { close(release) }) }
	t.Cleanup(released)
	return c, f, release, released
}
