package meltica_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// A step of the host's clock (NTP, forward or back) during a session
// with an open order and live market data, on venuesim's Binance. The
// venue's clock does not move: Binance refuses a signed request whose
// timestamp is more than 1 s ahead of its server time or older than
// recvWindow (-1021, Binance spot API "Timing security"). Session doc:
// the offset to the venue's clock is "measured at Start and before every
// user-data subscription", and again after a timestamp refusal "(the
// host's clock may have stepped since the login measured it)". What must
// hold after the step, as an experienced user expects of an SDK that
// signs with the venue's time: the open order can be canceled (the host
// may retry a refusal, a few times), a new order placed, each order's
// reports come once, and the market data goes on. A refusal meanwhile
// is a typed *VenueError, never a stall.
func TestS36ctClockStepOpenOrderLiveData(t *testing.T) {
	for _, step := range []time.Duration{0, 10 * time.Minute, -10 * time.Minute} {
		t.Run(fmt.Sprintf("step %v", step), func(t *testing.T) {
			ctx := context.Background()
			v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, APIKey: "k", APISecret: "s"})
			defer v.Close()
			var shift atomic.Int64
			host := func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
			var (
				mu      sync.Mutex
				reports = map[string][]schema.OrderStatus{}
			)
			var sp atomic.Pointer[session.Session]
			s, err := session.Start(ctx, session.Config{
				Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
				Symbols:     []string{"BTC-USDT"},
				Channels:    []string{"trade"},
				Credentials: normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
				Client:      s30ctFast(),
				Now:         host,
				OnExecReport: func(r *schema.ExecReport) {
					mu.Lock()
					id := r.ClientOrderID.String()
					if o := r.OrigClientOrderID.String(); o != "" {
						id = o // a cancel's report names the canceled order so (Binance "Execution Report": C)
					}
					reports[id] = append(reports[id], r.Status)
					mu.Unlock()
					sp.Load().Pools().Execs.Put(r)
				},
			})
			require.NoError(t, err)
			sp.Store(s)
			defer func() { assert.NoError(t, s.Close(ctx)) }()
			var trades atomic.Int64
			_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}},
				&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
					if ev.Type == schema.EventTrade {
						trades.Add(1)
					}
				}})
			require.NoError(t, err)
			wctx := s31ctConnected(t, s)
			status := func(cid string) []schema.OrderStatus {
				mu.Lock()
				defer mu.Unlock()
				return append([]schema.OrderStatus(nil), reports[cid]...)
			}

			req := s27ctOrder(t, s, "s36-open")
			_, err = s.Place(wctx, req)
			s.Pools().Orders.Put(req)
			require.NoError(t, err)
			require.Eventually(t, func() bool { return len(status("s36-open")) > 0 }, s27ctWait, time.Millisecond)
			require.Eventually(t, func() bool { return trades.Load() > 0 }, s27ctWait, time.Millisecond, "market data before the step")

			shift.Store(int64(step)) // the host's clock steps; the venue's does not

			// Each call retried a few times, as a host would after a
			// refusal; every refusal typed.
			try := func(what string, call func() error) {
				t.Helper()
				var errs []error
				for range 5 {
					err := call()
					if err == nil {
						return
					}
					var ve *session.VenueError
					require.True(t, errors.As(err, &ve) || errors.Is(err, session.ErrNotSent), "%s: an untyped error: %v", what, err)
					errs = append(errs, err)
				}
				t.Fatalf("%s after a host clock step of %v: refused 5 times in a row (the offset never measured again): %v", what, step, errs)
			}
			try("cancel of the open order", func() error {
				req, err := s.Pools().Orders.Get(wctx)
				require.NoError(t, err)
				defer s.Pools().Orders.Put(req)
				req.Action, req.Venue, req.Symbol = schema.ActionCancel, schema.VenueBinance, "BTC-USDT"
				req.OrigClientOrderID = schema.MustID("s36-open")
				_, err = s.Cancel(wctx, req)
				return err
			})
			try("a new order", func() error {
				req := s27ctOrder(t, s, "s36-after")
				defer s.Pools().Orders.Put(req)
				_, err := s.Place(wctx, req)
				return err
			})
			ok := assert.Eventually(t, func() bool {
				a, b := status("s36-open"), status("s36-after")
				return len(a) > 0 && a[len(a)-1] == schema.StatusCanceled && len(b) > 0
			}, s27ctWait, time.Millisecond)
			require.True(t, ok, "the cancel and the new order reported: %v %v; venue status of the open order %v", status("s36-open"), status("s36-after"), venueStatus(v, "s36-open"))
			assert.Equal(t, []schema.OrderStatus{schema.StatusNew, schema.StatusCanceled}, status("s36-open"), "each report once")
			assert.Equal(t, []schema.OrderStatus{schema.StatusNew}, status("s36-after"), "each report once")
			before := trades.Load()
			require.Eventually(t, func() bool { return trades.Load() > before }, s27ctWait, time.Millisecond, "market data after the step")
		})
	}
}

func venueStatus(v *venuesim.Venue, cid string) string {
	id, ok := v.OrderID(cid)
	return fmt.Sprintf("id %v known %v", id, ok)
}
