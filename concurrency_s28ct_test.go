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

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// s28ctSorted checks one side of a book's top: strictly better first
// (bids descending, asks ascending), no level without quantity.
func s28ctSorted(levels []schema.Level, bids bool) error {
	for i, l := range levels {
		if l.Qty.Sign() <= 0 || l.Price.Sign() <= 0 {
			return fmt.Errorf("level %d: %s x %s", i, l.Price, l.Qty)
		}
		if i == 0 {
			continue
		}
		c := levels[i-1].Price.Cmp(l.Price)
		if (bids && c <= 0) || (!bids && c >= 0) {
			return fmt.Errorf("level %d: %s after %s (bids %v)", i, l.Price, levels[i-1].Price, bids)
		}
	}
	return nil
}

func s28ctFill(req *schema.OrderRequest, cid string) {
	req.Venue, req.Symbol = schema.VenueBinance, "BTC-USDT"
	req.ClientOrderID, req.Side, req.Type, req.TimeInForce = schema.MustID(cid), schema.SideBuy, schema.OrderTypeLimit, schema.TIFGTC
	req.Price, req.Qty = schema.MustParseDecimal("1000.00"), schema.MustParseDecimal("0.5")
}

// "A Session ... is safe for concurrent use" and "A Book is safe for
// concurrent use: one goroutine applies events while others read the
// top": four goroutines place and cancel orders, three read the session
// (Stats, Outstanding, ClockOffset, Rules, Symbols) and its book (Top,
// BBO, Live, LastSeq, Updated, Stats) while the venue breaks the depth
// stream's sequence, resets the market connection and closes the order
// connection; then Close comes in the middle of it all. Under -race:
// no race, no panic; every Place and Cancel returns the venue's answer to
// its own request (the ack names its client order id) or one of the
// documented errors (*VenueError, ErrDisconnected, ErrClosed, ErrNotSent);
// every top read while live is a proper book (each side sorted, best bid
// below best ask); after Close every call returns ErrClosed and nothing
// pooled is out.
func TestS28ctSessionHammered(t *testing.T) {
	ctx := context.Background()
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 400, PingInterval: -1, IncomingLimit: -1, APIKey: "k", APISecret: "s"})
	defer v.Close()
	s, err := session.Start(ctx, session.Config{
		Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"trade", "depth@100ms", "bookTicker"},
		Credentials: normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
		Client:      wsclient.Options{Rand: func(int64) int64 { return 0 }, ControlRate: -1},
	})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, s27ctWait)
	defer cancel()
	require.NoError(t, s.WaitConnected(wctx))

	documented := func(err error) bool {
		var ve *session.VenueError
		return err == nil || errors.As(err, &ve) || errors.Is(err, session.ErrDisconnected) ||
			errors.Is(err, session.ErrClosed) || errors.Is(err, session.ErrNotSent)
	}
	var places, acks, closedSeen atomic.Int64
	stop := make(chan struct{})
	var traders, readers sync.WaitGroup
	for g := 0; g < 4; g++ {
		traders.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				cid := fmt.Sprintf("s28ct-%d-%d", g, i)
				req, err := s.Pools().Orders.Get(ctx)
				if err != nil {
					return // the pools shut down with Close
				}
				s28ctFill(req, cid)
				pctx, pcancel := context.WithTimeout(ctx, s27ctWait)
				ack, err := s.Place(pctx, req)
				places.Add(1)
				if !documented(err) {
					t.Errorf("Place %s: undocumented error %v", cid, err)
				}
				if err == nil {
					acks.Add(1)
					assert.Equal(t, cid, ack.ClientOrderID.String(), "the ack of its own request")
					req.Reset()
					req.Venue, req.Symbol, req.OrigClientOrderID = schema.VenueBinance, "BTC-USDT", schema.MustID(cid)
					req.ClientOrderID = schema.MustID(cid + "-x")
					_, err = s.Cancel(pctx, req)
					if !documented(err) {
						t.Errorf("Cancel %s: undocumented error %v", cid, err)
					}
				}
				pcancel()
				s.Pools().Orders.Put(req)
				if errors.Is(err, session.ErrClosed) {
					closedSeen.Add(1)
					return
				}
			}
		})
	}
	var tops, crossed atomic.Int64
	for g := 0; g < 3; g++ {
		readers.Go(func() {
			dst := new(schema.CanonicalEvent)
			for {
				select {
				case <-stop:
					return
				default:
				}
				st := s.Stats()
				_ = s.Outstanding()
				_ = s.ClockOffset()
				_, _ = s.Rules("BTC-USDT")
				_ = s.Symbols()
				if len(st.Books) != 1 {
					t.Errorf("books: %d", len(st.Books))
					return
				}
				b := s.Book("BTC-USDT")
				_, _ = b.BBO()
				_ = b.Live()
				_ = b.LastSeq()
				_, _ = b.Updated()
				_ = b.Stats()
				if b.Top(10, dst) {
					tops.Add(1)
					if err := s28ctSorted(dst.Book.Bids, true); err != nil {
						t.Errorf("bids: %v", err)
					}
					if err := s28ctSorted(dst.Book.Asks, false); err != nil {
						t.Errorf("asks: %v", err)
					}
					if len(dst.Book.Bids) > 0 && len(dst.Book.Asks) > 0 && dst.Book.Bids[0].Price.Cmp(dst.Book.Asks[0].Price) >= 0 {
						crossed.Add(1)
					}
				}
			}
		})
	}
	// Faults while all of that runs: each waits for progress, not time.
	progress := func(what string, n *atomic.Int64, more int64) {
		t.Helper()
		from := n.Load()
		require.Eventually(t, func() bool { return n.Load() >= from+more }, s27ctWait, time.Millisecond, what)
	}
	progress("places", &places, 20)
	progress("tops", &tops, 20)
	for round := 0; round < 3; round++ {
		v.Inject(venuesim.FaultDepthGap)
		progress("places after a gap", &places, 10)
		v.Inject(venuesim.FaultReset)
		v.CloseAPI()
		progress("places after the losses", &places, 10)
		progress("tops after the losses", &tops, 5)
	}
	// Close in the middle of it.
	require.NoError(t, s.Close(ctx))
	close(stop)
	traders.Wait()
	readers.Wait()
	t.Logf("places %d, acks %d, tops read %d, traders that saw ErrClosed %d", places.Load(), acks.Load(), tops.Load(), closedSeen.Load())
	assert.Zero(t, crossed.Load(), "no crossed top read from a live book")
	req := new(schema.OrderRequest)
	s28ctFill(req, "s28ct-late")
	_, err = s.Place(ctx, req)
	assert.ErrorIs(t, err, session.ErrClosed, "Place after Close")
	req.OrigClientOrderID = req.ClientOrderID
	_, err = s.Cancel(ctx, req)
	assert.ErrorIs(t, err, session.ErrClosed, "Cancel after Close")
	_ = s.Stats() // "Safe to call at any time, also after Close"
	assert.Zero(t, s.Outstanding(), "0 after a clean Close")
	require.NoError(t, s.Close(ctx), "Close is idempotent")
}
