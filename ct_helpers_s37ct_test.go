package meltica_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// s37ctReports keeps a copy of every execution report a session hands
// to Config.OnExecReport (the pooled report goes back at once, as a
// host's hook does), in the order they came.
type s37ctReports struct {
	mu   sync.Mutex
	all  []schema.Execution
	sess func() *session.Session
}

func (r *s37ctReports) hook(rep *schema.ExecReport) {
	r.mu.Lock()
	r.all = append(r.all, rep.Execution)
	r.mu.Unlock()
	r.sess().Pools().Execs.Put(rep)
}

// of returns the reports of the order with client order id cid.
func (r *s37ctReports) of(cid string) []schema.Execution {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []schema.Execution
	for _, x := range r.all {
		if x.ClientOrderID.String() == cid || x.OrigClientOrderID.String() == cid && x.ExecType == schema.ExecCanceled {
			out = append(out, x)
		}
	}
	return out
}

// has reports whether a report of cid with status st came.
func (r *s37ctReports) has(cid string, st schema.OrderStatus) bool {
	for _, x := range r.of(cid) {
		if x.Status == st {
			return true
		}
	}
	return false
}

// story is the order's reports as "exec/status[/R]" (R: reconciled), for
// comparing and for a failing test to print.
func (r *s37ctReports) story(cid string) string {
	var b strings.Builder
	for i, x := range r.of(cid) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d/%s", x.ExecType, x.Status)
		if x.Reconciled {
			b.WriteString("/R")
		}
	}
	return b.String()
}

// s37ctBinance starts a simulated Binance with an account (key "k") and
// a session on it whose execution reports r keeps.
func s37ctBinance(t *testing.T) (*venuesim.Venue, *session.Session, *s37ctReports) {
	t.Helper()
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, APIKey: "k", APISecret: "s", PingInterval: -1})
	t.Cleanup(v.Close)
	s, r := s37ctBinanceSession(t, v)
	return v, s, r
}

// s37ctBinanceSession starts one more session on v's account.
func s37ctBinanceSession(t *testing.T, v *venuesim.Venue) (*session.Session, *s37ctReports) {
	t.Helper()
	r := &s37ctReports{}
	var s *session.Session
	var mu sync.Mutex
	r.sess = func() *session.Session { mu.Lock(); defer mu.Unlock(); return s }
	mu.Lock()
	var err error
	s, err = session.Start(context.Background(), session.Config{
		Endpoints:    session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
		Symbols:      []string{"BTC-USDT"},
		Channels:     []string{"trade"},
		Credentials:  normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
		OnExecReport: r.hook,
	})
	mu.Unlock()
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
		defer cancel()
		require.NoError(t, s.Close(ctx), "Close: every pooled object back")
		require.Zero(t, s.Outstanding())
	})
	s31ctConnected(t, s)
	return s, r
}

// s37ctPlace places a GTC limit buy of qty at price with client order id
// cid and returns the venue's answer.
func s37ctPlace(t *testing.T, s *session.Session, cid, price, qty string) (session.Ack, error) {
	t.Helper()
	req, err := s.Pools().Orders.Get(context.Background())
	require.NoError(t, err)
	defer s.Pools().Orders.Put(req)
	req.Venue, req.Symbol = schema.VenueBinance, "BTC-USDT"
	req.ClientOrderID, req.Side, req.Type, req.TimeInForce = schema.MustID(cid), schema.SideBuy, schema.OrderTypeLimit, schema.TIFGTC
	req.Price, req.Qty = schema.MustParseDecimal(price), schema.MustParseDecimal(qty)
	ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
	defer cancel()
	return s.Place(ctx, req)
}

// s37ctCancel cancels the order with client order id orig (cid: the
// cancel's own id) and returns the venue's answer.
func s37ctCancel(t *testing.T, s *session.Session, cid, orig string) (session.Ack, error) {
	t.Helper()
	req, err := s.Pools().Orders.Get(context.Background())
	require.NoError(t, err)
	defer s.Pools().Orders.Put(req)
	req.Venue, req.Symbol = schema.VenueBinance, "BTC-USDT"
	req.ClientOrderID, req.OrigClientOrderID = schema.MustID(cid), schema.MustID(orig)
	ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
	defer cancel()
	return s.Cancel(ctx, req)
}

// s37ctMarker places and cancels a resting order of its own and waits
// for its CANCELED report: the venue streams an account's reports in
// order on one subscription (Binance "User Data Streams"), so every
// report the venue sent before it has been handed to the host by then.
func s37ctMarker(t *testing.T, s *session.Session, r *s37ctReports, cid string) {
	t.Helper()
	_, err := s37ctPlace(t, s, cid, "900.00", "0.01")
	require.NoError(t, err)
	_, err = s37ctCancel(t, s, cid+"-x", cid)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return r.has(cid, schema.StatusCanceled) }, s27ctWait, s37ctTick, "the marker's CANCELED report")
}

// s37ctTick is how often a wait looks again.
const s37ctTick = 5 * time.Millisecond

// s37ctNewOrderConn waits until the order connection is another than
// old (an id from Stats().Orders.Client.ConnID) and the session is
// connected again on it: its loss seen, orders go on the new one.
func s37ctNewOrderConn(t *testing.T, s *session.Session, old uint64) {
	t.Helper()
	require.Eventually(t, func() bool {
		id := s.Stats().Orders.Client.ConnID
		return id != 0 && id != old
	}, s27ctWait, s37ctTick, "a new order connection")
	s31ctConnected(t, s)
}

// s37ctNoLeak is goleak.Find given about a minute (goleak v1.3.0 retries
// for about a second and takes no bound of ours): the goroutines of
// what the test closed may still be on their way out on a loaded machine.
func s37ctNoLeak(opts ...goleak.Option) error {
	var err error
	for range 40 {
		if err = goleak.Find(opts...); err == nil {
			return nil
		}
	}
	return err
}

// s37ctBackoff is the redial backoff of the churn tests (wsclient
// Options.BackoffBase): short, so that a hundred losses take seconds.
const s37ctBackoff = time.Millisecond
