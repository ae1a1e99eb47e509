// Quickstart streams trades and best bid/offer for two symbols through the
// whole pipeline — wsclient → normalize → dispatch — and shuts down cleanly,
// proving that every pooled object came back.
//
// By default it runs offline against the embedded simulated venue; -live
// connects to Binance's public market-data endpoint instead (-endpoint
// testnet: the spot test network's).
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -duration 10s -live
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/examples/internal/cli"
	"github.com/meltica/meltica/internal/flagval"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

func main() { cli.Main("quickstart", run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	duration := fs.Duration("duration", 3*time.Second, "how long to stream")
	useLive := fs.Bool("live", false, "connect to Binance's public endpoint instead of the simulated venue")
	endpoint := fs.String("endpoint", "production", "with -live: production or testnet (public market data)")
	rate := fs.Int("rate", 2000, "simulated venue: messages per second")
	show := fs.Int("print", 30, "how many events to print as they arrive (counting goes on)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := errors.Join(flagval.Positive("-duration", *duration), flagval.AtLeast("-rate", *rate, 1), flagval.NonNegative("-print", *show)); err != nil {
		return err
	}
	live, err := cli.LiveEndpoints(*endpoint)
	if err != nil {
		return err
	}
	out = cli.SyncWriter(out)
	symbols := []string{"BTC-USDT", "ETH-USDT"}

	var venue *venuesim.Venue
	if !*useLive {
		venue = venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: *rate})
		defer venue.Close()
		fmt.Fprintf(out, "simulated venue on %s (%d msg/s)\n", venue.URL(), *rate)
	}
	// The subscription is made in Config.Subscribe, before the connection
	// starts: one made after Start returns may miss the first messages.
	var trades, bbos, printed atomic.Int64
	var sub *dispatch.Subscription
	started := time.Now()
	s, err := session.Start(ctx, session.Config{
		Endpoints: cli.Endpoints(venue, live),
		Symbols:   symbols,
		Channels:  []string{"trade", "bookTicker"},
		OnState: func(_ session.Conn, e wsclient.Event) {
			if e.Err != nil && e.State != schema.ConnClosed {
				fmt.Fprintf(out, "%s: %s: %v\n", connName(e.ConnID), e.State, e.Err)
				return
			}
			fmt.Fprintf(out, "%s: %s\n", connName(e.ConnID), e.State)
		},
		Subscribe: func(d *dispatch.Dispatcher) (err error) {
			sub, err = d.Subscribe(dispatch.Filter{
				Symbols: symbols,
				Types:   []schema.EventType{schema.EventTrade, schema.EventBBO},
			}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
				switch ev.Type {
				case schema.EventTrade:
					trades.Add(1)
				case schema.EventBBO:
					bbos.Add(1)
				default:
					return
				}
				if n := printed.Add(1); n <= int64(*show) {
					fmt.Fprintln(out, describe(ev))
					if n == int64(*show) {
						fmt.Fprintln(out, "... (printing stops here; counting goes on)")
					}
				}
			}})
			return err
		},
	})
	if err != nil {
		return err
	}

	select {
	case <-time.After(*duration):
	case <-ctx.Done():
	}
	// On a loaded machine the first events may come late: wait for them
	// (within a generous deadline) so that the summary has something to say.
	late := time.After(30 * time.Second)
	for trades.Load() == 0 || bbos.Load() == 0 {
		select {
		case <-time.After(10 * time.Millisecond):
			continue
		case <-late:
		case <-ctx.Done():
		}
		break
	}
	elapsed := time.Since(started)
	st := sub.Stats()
	ss := s.Stats()
	cs, ps := ss.Market[0].Client, ss.Market[0].Parser

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a deadline for a busy machine
	defer cancel()
	closeErr := s.Close(shutdownCtx)

	fmt.Fprintf(out, "\nsummary after %.1fs\n", elapsed.Seconds())
	fmt.Fprintf(out, "  frames read        %d (%d reconnects)\n", cs.Messages, cs.TotalReconnects())
	fmt.Fprintf(out, "  events normalized  %d (%.0f/s), parse errors %d\n", ps.Events, float64(ps.Events)/elapsed.Seconds(), ps.Errors)
	fmt.Fprintf(out, "  delivered          %d trades, %d best bid/offer (%d coalesced, %d dropped)\n", trades.Load(), bbos.Load(), st.Coalesced, st.Dropped)
	fmt.Fprintf(out, "  worst lag          %s\n", st.WorstLag)
	fmt.Fprintln(out, "pools after shutdown:")
	cli.PrintPools(out, s.Stats().Pools)
	if closeErr != nil {
		fmt.Fprintf(out, "leak check: FAILED: %v\n", closeErr)
		return closeErr
	}
	fmt.Fprintf(out, "leak check: %d outstanding\n", s.Outstanding())
	return nil
}

// describe formats a trade or best bid/offer on one line.
func describe(ev *schema.CanonicalEvent) string {
	at := time.Unix(0, ev.IngestTS).Format("15:04:05.000")
	if ev.Type == schema.EventTrade {
		return fmt.Sprintf("%s %-8s trade  %-4s %s @ %s (id %s)", at, ev.Symbol, ev.Trade.Side, ev.Trade.Qty, ev.Trade.Price, ev.Trade.ID)
	}
	return fmt.Sprintf("%s %-8s bbo    %s x %s  |  %s x %s", at, ev.Symbol, ev.BBO.BidQty, ev.BBO.BidPrice, ev.BBO.AskPrice, ev.BBO.AskQty)
}

// connName names a connection in the output: connections count from 1; the
// client's own events (connecting, closed) carry no connection.
func connName(id uint64) string {
	if id == 0 {
		return "client"
	}
	return fmt.Sprintf("connection %d", id)
}
