// Bot streams trades and L2 books for two symbols, runs a deliberately slow
// strategy, places one limit order at the best bid and follows it to a
// fill, watches the connections and shuts down with a leak check: the
// whole of it on package session. It trades against the embedded simulated
// venue; give session.BinanceTestnet and real keys to trade on the testnet.
//
//	go run ./examples/bot
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/examples/internal/cli"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

func main() {
	cli.Main("bot", cli.NoFlags("bot", func(ctx context.Context, out io.Writer) error {
		venue := venuesim.Start(&venuesim.Options{APIKey: "key", APISecret: "secret"})
		defer venue.Close()
		keys := normalize.NewCredentials("key", normalize.NewHMACSigner([]byte("secret")))
		return run(ctx, cli.SyncWriter(out), cli.Endpoints(venue, session.Endpoints{}), keys, func(string, *session.Session) {})
	}))
}

// run trades until the order is filled; step is called with the session
// when it is "ready" and when the order is "resting" (the test holds the
// market and cuts the connections there).
func run(ctx context.Context, out io.Writer, ep session.Endpoints, keys *normalize.Credentials, step func(string, *session.Session)) (err error) {
	s, err := session.Start(ctx, session.Config{Endpoints: ep, Credentials: keys,
		Symbols: []string{"BTC-USDT", "ETH-USDT"}, Channels: []string{"trade", "depth@100ms"},
		OnState: func(c session.Conn, e wsclient.Event) { fmt.Fprintf(out, "%s: %s %s\n", c, e.State, e.Reason) }})
	if err != nil {
		return err
	}
	defer func() { // Close waits for every goroutine, then the leak check (Ctrl-C or not)
		err = errors.Join(err, s.Close(context.WithoutCancel(ctx)))
		fmt.Fprintf(out, "leak check: %d outstanding\n", s.Outstanding())
	}()
	var trades atomic.Int64
	strategy, err := s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}},
		&dispatch.SubscribeOptions{OrderedBound: 64, Handler: func(*schema.CanonicalEvent) {
			trades.Add(1)
			time.Sleep(time.Millisecond) // a deliberately slow strategy: the session drops its trades, and says so
		}})
	if err != nil {
		return err
	}
	reports := make(chan *schema.CanonicalEvent, 64)
	if _, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { reports <- ev }}); err != nil {
		return err
	}
	if err = s.WaitConnected(ctx); err != nil { // connections up, books live, user data subscribed
		return err
	}
	step("ready", s)
	top, _ := s.Book("BTC-USDT").BBO()
	req, _ := s.Pools().Orders.Get(ctx)
	req.Symbol, req.ClientOrderID, req.Side, req.Type, req.TimeInForce = "BTC-USDT", schema.MustID("bot-1"), schema.SideBuy, schema.OrderTypeLimit, schema.TIFGTC
	req.Price, req.Qty = top.BidPrice, schema.MustParseDecimal("0.01")
	ack, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "order %s (venue id %s) %s at %s\n", ack.ClientOrderID, ack.VenueOrderID, ack.Status, ack.Price)
	step("resting", s)
	for status := ack.Status; status != schema.StatusFilled; {
		select {
		case ev := <-reports:
			if x := ev.Exec; x != nil && x.ClientOrderID == ack.ClientOrderID {
				status = x.Status
				fmt.Fprintf(out, "order %s %s: filled %s of %s\n", x.ClientOrderID, x.Status, x.CumFillQty, x.Qty)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	st := strategy.Stats()
	fmt.Fprintf(out, "strategy saw %d trades, %d dropped and told in %d gap markers\n", trades.Load(), st.Dropped, st.Gaps)
	return nil
}
