package meltica_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// A Binance market SUBSCRIBE refused after a reconnect ("Error
// Messages": {"error":{"code":2,"msg":"Invalid request"},"id":…}), the
// first one taken: the loss is announced, and the stream does not stall
// silently (DESIGN.md contract 5: "No silent stalls"): either the
// subscription is asked again and the next trades come after the
// marker, or WaitConnected tells the refusal. The docs are silent on
// which; this test holds either. FAILS at 3c01e0f as OKX's
// (TestS36ctOKXMarketRefusedResubscription): one SUBSCRIBE again after
// the reconnect, refused, never asked again, WaitConnected nil.
func TestS36ctBinanceMarketRefusedResubscription(t *testing.T) {
	m := newS36ctBinanceMarket(t)
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}}) // its REST only: the instruments
	defer v.Close()
	s, err := session.Start(context.Background(), session.Config{
		Endpoints:   session.Endpoints{Stream: m.ws("/stream"), REST: v.RESTURL()},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"trade"},
		NoClockSync: true,
		Client:      s30ctFast(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	tape := subscribeTape(t, s)
	s31ctConnected(t, s)
	require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond)
	tape.waitTrade(t, m.publish(3))

	m.fmu.Lock()
	m.refuse = 1
	m.fmu.Unlock()
	old := m.subscribed()[0]
	m.drop(old)
	old.cut()
	subscribes := func() int {
		return len(m.find("/stream", func(s string) bool { return strings.Contains(s, `"SUBSCRIBE"`) }))
	}
	require.Eventually(t, func() bool { return subscribes() >= 2 }, s27ctWait, time.Millisecond, "the session subscribed again after reconnecting")
	// Asked again (then trades follow), or the refusal told.
	var werr error
	ok := assert.Eventually(t, func() bool {
		if len(m.subscribed()) > 0 {
			return true
		}
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		werr = s.WaitConnected(wctx)
		return werr != nil && !errorsIsDeadline(werr)
	}, s27ctWait, time.Millisecond)
	require.True(t, ok, "the refused market subscription is neither asked again nor told (WaitConnected %v; SUBSCRIBEs sent %d; tape %v): a silent stall", werr, subscribes(), tape)
	if len(m.subscribed()) > 0 {
		tape.waitTrade(t, m.publish(3))
		require.Positive(t, tape.check(t), "%v", tape)
	} else {
		t.Logf("the refusal told: %v", werr)
	}
}

func errorsIsDeadline(err error) bool {
	return err == context.DeadlineExceeded || strings.Contains(err.Error(), context.DeadlineExceeded.Error())
}
