package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// heldBackend answers the order query with the status given, once
// release is closed (a pass still asking).
type heldBackend struct {
	fakeBackend
	release chan struct{}
	status  schema.OrderStatus
}

func (b *heldBackend) order(ctx context.Context, _ uint64, key orderKey, _ bool) ([]normalize.QueryOrder, error) {
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	o := normalize.QueryOrder{Symbol: key.symbol}
	o.VenueOrderID, o.Status = key.id, b.status
	return []normalize.QueryOrder{o}, nil
}

// TestS27MaxNumOrdersUnknownCount: MAX_NUM_ORDERS is checked against the
// orders the session follows only while their statuses are the venue's
// as of now. From a loss of the stream until the next pass ran to its
// end, an order followed may have ended in the window: counted as
// working, it refused a Place the venue would have taken (Binance spot
// "Filters": MAX_NUM_ORDERS counts the orders open at the venue). The
// venue's -2010 tells when the count was short; a wrong local refusal
// tells nothing true. Before the first subscription's open orders are
// read the count is not known either; an order a pass gave up on is not
// counted.
func TestS27MaxNumOrdersUnknownCount(t *testing.T) {
	s := &Session{spec: venues[schema.VenueBinance], rules: map[string]normalize.InstrumentRules{
		"BTC-USDT": {MaxNumOrders: 1}}}
	s.cfg.Client = wsclient.Options{Clock: wsclient.SystemClock()}
	s.pools = schema.NewPools(nil)
	s.disp = dispatch.New(s.pools.Events, nil)
	var cancel context.CancelFunc
	s.dying, cancel = context.WithCancel(context.Background())
	defer func() { cancel(); s.bg.Wait(); require.NoError(t, s.disp.Close(context.Background())) }()
	b := &heldBackend{fakeBackend: fakeBackend{rules_: binanceRefusals}, release: make(chan struct{}), status: schema.StatusCanceled}
	r := newReconciler(s, b)
	s.orders = &orders{rec: r}
	key := orderKey{symbol: "BTC-USDT", id: schema.MustID("1")}
	r.orders[key] = &tracked{status: schema.StatusNew}
	req := &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USDT", Type: schema.OrderTypeLimit}

	require.NoError(t, s.checkWorking(req), "before the first subscription: not known")
	r.subscribed(1) // the first: the open orders read (none)
	require.Eventually(t, func() bool { _, _, known := r.working("BTC-USDT"); return known }, 10*time.Second, time.Millisecond)
	var re *normalize.RuleError
	require.ErrorAs(t, s.checkWorking(req), &re, "known: one open of one")

	r.lost()
	require.NoError(t, s.checkWorking(req), "the stream lost: order 1 may have ended in the window")
	r.subscribed(2) // the pass asks about order 1, held
	require.NoError(t, s.checkWorking(req), "the pass still asking")
	close(b.release) // the venue: canceled in the window
	require.Eventually(t, func() bool { _, _, known := r.working("BTC-USDT"); return known }, 10*time.Second, time.Millisecond)
	require.NoError(t, s.checkWorking(req), "order 1 ended: room for one")

	r.mu.Lock()
	r.orders[orderKey{symbol: "BTC-USDT", id: schema.MustID("2")}] = &tracked{status: schema.StatusNew, stale: true}
	r.mu.Unlock()
	require.NoError(t, s.checkWorking(req), "an order given up on is not counted")
	r.mu.Lock()
	r.orders[orderKey{symbol: "BTC-USDT", id: schema.MustID("3")}] = &tracked{status: schema.StatusNew}
	r.mu.Unlock()
	require.ErrorAs(t, s.checkWorking(req), &re)
	assert.Equal(t, "2", re.Value.String())
}
