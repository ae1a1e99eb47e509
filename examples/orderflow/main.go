// Orderflow places, fills and cancels orders through pooled OrderRequests
// and prints the execution reports that come back; a rejected order shows
// the venue's reason.
//
// By default it trades against the embedded simulated venue. -live sends
// real orders to Binance's spot testnet (-endpoint testnet, the default)
// or to production (-endpoint production: real money) with the keys in
// BINANCE_API_KEY and BINANCE_API_SECRET (HMAC keys).
//
//	go run ./examples/orderflow
//	go run ./examples/orderflow -live            # the testnet
//	go run ./examples/orderflow -live -endpoint production
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/meltica/meltica/examples/internal/cli"
	"github.com/meltica/meltica/internal/flagval"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

func main() { cli.Main("orderflow", run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("orderflow", flag.ContinueOnError)
	live := fs.Bool("live", false, "trade on Binance with BINANCE_API_KEY and BINANCE_API_SECRET")
	endpoint := fs.String("endpoint", "testnet", "with -live: testnet or production")
	wait := fs.Duration("wait", 5*time.Second, "how long to wait for each answer from the venue")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := errors.Join(flagval.Positive("-wait", *wait)); err != nil {
		return err
	}
	out = cli.SyncWriter(out)
	keys := normalize.NewCredentials("demo-key", normalize.NewHMACSigner([]byte("demo-secret")))
	var venue *venuesim.Venue
	var ep session.Endpoints
	if *live {
		var err error
		if ep, err = cli.LiveEndpoints(*endpoint); err != nil {
			return err
		}
		key, secret := os.Getenv("BINANCE_API_KEY"), os.Getenv("BINANCE_API_SECRET")
		if key == "" || secret == "" {
			return errors.New("-live needs BINANCE_API_KEY and BINANCE_API_SECRET in the environment")
		}
		keys = normalize.NewCredentials(key, normalize.NewHMACSigner([]byte(secret)))
		fmt.Fprintf(out, "trading on %s\n", ep.API)
	} else {
		venue = venuesim.Start(&venuesim.Options{Rate: 200, APIKey: keys.APIKey(), APISecret: "demo-secret"})
		defer venue.Close()
		fmt.Fprintf(out, "simulated venue on %s\n", venue.URL())
	}

	// Execution reports come as pooled ExecReports, each Put once printed.
	reports := make(chan *schema.ExecReport, 1024)
	s, err := session.Start(ctx, session.Config{Endpoints: cli.Endpoints(venue, ep), Symbols: []string{"BTC-USDT"},
		Channels: []string{"bookTicker"}, Credentials: keys, OnExecReport: func(r *schema.ExecReport) { reports <- r }})
	if err != nil {
		return err
	}
	// Every way out below goes through the shutdown: the session is
	// closed, its pooled objects checked, whatever ended the steps.
	var sent, received int
	stepErr := steps(ctx, out, s, reports, *wait, &sent, &received)

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a deadline for a busy machine
	defer cancel()
	// Reports nobody awaits any more (Ctrl-C, a failed step) go back to
	// their pool while Close waits for every pooled object, and after.
	stopDrain, drained := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(drained)
		for {
			select {
			case x := <-reports:
				s.Pools().Execs.Put(x)
			case <-stopDrain:
				return
			}
		}
	}()
	closeErr := s.Close(shutdownCtx)
	close(stopDrain)
	<-drained
	for len(reports) > 0 {
		s.Pools().Execs.Put(<-reports)
	}
	fmt.Fprintf(out, "\n%d requests sent, %d execution reports received\n", sent, received)
	fmt.Fprintln(out, "pools after shutdown:")
	cli.PrintPools(out, s.Stats().Pools)
	fmt.Fprintf(out, "leak check: %d outstanding\n", s.Outstanding())
	return errors.Join(stepErr, closeErr)
}

// steps waits for the connections, then places and cancels the demo's
// orders one by one, printing each answer and the reports that follow,
// counting the requests sent and the reports received.
func steps(ctx context.Context, out io.Writer, s *session.Session, reports <-chan *schema.ExecReport, wait time.Duration, sent, received *int) error {
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	err := s.WaitConnected(waitCtx)
	cancel()
	if err != nil {
		return fmt.Errorf("connections: %w", err)
	}
	d := schema.MustParseDecimal
	list := []struct {
		title string
		fill  func(o *schema.OrderRequest)
		until schema.OrderStatus
	}{
		{"market buy 0.02 BTC: fills at once, in two parts", func(o *schema.OrderRequest) {
			o.ClientOrderID, o.Side, o.Type, o.Qty = schema.MustID("demo-mkt-1"), schema.SideBuy, schema.OrderTypeMarket, d("0.02")
		}, schema.StatusFilled},
		{"limit buy 0.5 BTC at 1000.00: rests on the book", func(o *schema.OrderRequest) {
			o.ClientOrderID, o.Side, o.Type, o.TimeInForce, o.Price, o.Qty = schema.MustID("demo-lmt-1"), schema.SideBuy, schema.OrderTypeLimit, schema.TIFGTC, d("1000.00"), d("0.5")
		}, schema.StatusNew},
		{"cancel it", func(o *schema.OrderRequest) {
			o.Action, o.OrigClientOrderID = schema.ActionCancel, schema.MustID("demo-lmt-1")
		}, schema.StatusCanceled},
		{"limit buy 1000 BTC at 60000.00: more than the account holds", func(o *schema.OrderRequest) {
			o.ClientOrderID, o.Side, o.Type, o.TimeInForce, o.Price, o.Qty = schema.MustID("demo-big-1"), schema.SideBuy, schema.OrderTypeLimit, schema.TIFGTC, d("60000.00"), d("1000")
		}, schema.StatusRejected},
	}
	for i, st := range list {
		fmt.Fprintf(out, "\n%d. %s\n", i+1, st.title)
		req, err := s.Pools().Orders.Get(ctx)
		if err != nil {
			return err
		}
		req.Venue, req.Symbol = schema.VenueBinance, "BTC-USDT"
		st.fill(req)
		callCtx, cancel := context.WithTimeout(ctx, wait)
		var ack session.Ack
		if req.Action == schema.ActionCancel {
			ack, err = s.Cancel(callCtx, req)
		} else {
			ack, err = s.Place(callCtx, req)
		}
		cancel()
		s.Pools().Orders.Put(req) // the call has returned: the request goes back at once
		var refused *session.VenueError
		switch {
		case errors.As(err, &refused):
			fmt.Fprintf(out, "   venue answer request %d: refused, code %d %s\n", refused.RequestID, refused.Code, refused.Msg)
		case err != nil:
			return err
		default:
			fmt.Fprintf(out, "   venue answer request %d: order %s %s\n", ack.RequestID, ack.VenueOrderID, ack.Status)
		}
		*sent++
		n, err := await(ctx, out, s.Pools(), reports, st.until, wait)
		*received += n
		if err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return nil
}

// await prints the execution reports until one reaches the wanted status,
// and returns how many it saw.
func await(ctx context.Context, out io.Writer, pools *schema.Pools, reports <-chan *schema.ExecReport, until schema.OrderStatus, wait time.Duration) (int, error) {
	timeout := time.After(wait)
	n := 0
	for {
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-timeout:
			return n, fmt.Errorf("no %s report within %s", until, wait)
		case x := <-reports:
			n++
			// A cancel's report carries the cancel's own client id;
			// the order's is OrigClientOrderID (Binance's "c" and "C").
			id := x.ClientOrderID
			if !x.OrigClientOrderID.IsZero() {
				id = x.OrigClientOrderID
			}
			fmt.Fprintf(out, "   exec report  %-10s %-4s %-6s %-9s -> %-16s filled %s of %s", id, x.Side, x.Type, x.ExecType, x.Status, x.CumFillQty, x.Qty)
			if x.ExecType == schema.ExecTrade {
				fmt.Fprintf(out, " (last %s @ %s, fee %s %s)", x.LastFillQty, x.LastFillPrice, x.Fee, x.FeeAsset)
			}
			if x.RejectReason != "" {
				fmt.Fprintf(out, " reason: %s", x.RejectReason)
			}
			fmt.Fprintln(out)
			status := x.Status
			pools.Execs.Put(x)
			if status == until {
				return n, nil
			}
		}
	}
}
