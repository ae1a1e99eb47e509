package venuesim_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/venuesim"
)

// s29rvFrozenClock never fires: a Sleep ends only with its ctx.
type s29rvFrozenClock struct{}

func (s29rvFrozenClock) Now() time.Time { return s29Epoch }

func (s29rvFrozenClock) Sleep(ctx context.Context, _ time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

// Every wait of the venue on Options.Clock (the generator's millisecond,
// each connection's age cut and server pings, a SetMaxConnAge re-arm)
// ends with Close, on a clock that never fires: no goroutine is left.
func TestS29rvCloseWithFrozenClock(t *testing.T) {
	before := goleak.IgnoreCurrent()
	v := venuesim.Start(&venuesim.Options{Rate: 100, Clock: s29rvFrozenClock{}, MaxConnAge: time.Hour,
		PingInterval: 20 * time.Second, ConnectLimit: 10})
	ctx := s29Ctx(t)
	var conns []*websocket.Conn
	for _, u := range []string{v.StreamURL("btcusdt@trade"), v.StreamURL(), v.APIURL(), v.APIURL()} {
		c, _, err := websocket.Dial(ctx, u, nil)
		require.NoError(t, err)
		conns = append(conns, c)
	}
	v.SetMaxConnAge(2 * time.Hour)
	_ = conns[0].CloseNow() // one gone before Close
	v.Close()
	for _, c := range conns {
		_ = c.CloseNow()
	}
	goleak.VerifyNone(t, before)
}
