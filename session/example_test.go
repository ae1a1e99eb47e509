package session_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// A session against the simulated venue: connect, place a limit order and
// read the venue's answer, close with the leak check.
func Example() {
	venue := venuesim.Start(&venuesim.Options{APIKey: "key", APISecret: "secret"})
	defer venue.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	s, err := session.Start(ctx, session.Config{
		Endpoints:   session.Endpoints{Stream: venue.CombinedURL(), REST: venue.RESTURL(), API: venue.APIURL()},
		Symbols:     []string{"BTC-USDT", "ETH-USDT"},
		Channels:    []string{"trade", "depth@100ms"},
		Credentials: normalize.NewCredentials("key", normalize.NewHMACSigner([]byte("secret"))),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.WaitConnected(ctx); err != nil {
		fmt.Println(err)
	}

	req, _ := s.Pools().Orders.Get(ctx)
	req.Symbol, req.ClientOrderID = "BTC-USDT", schema.MustID("example-1")
	req.Side, req.Type, req.TimeInForce = schema.SideBuy, schema.OrderTypeLimit, schema.TIFGTC
	req.Price, req.Qty = schema.MustParseDecimal("1000.00"), schema.MustParseDecimal("0.01")
	ack, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	fmt.Println("order", ack.ClientOrderID, ack.Status, err)

	req, _ = s.Pools().Orders.Get(ctx)
	req.Symbol, req.Side, req.Type = "BTC-USDT", schema.SideBuy, schema.OrderTypeLimit
	req.Price, req.Qty = schema.MustParseDecimal("60000.00"), schema.MustParseDecimal("1000")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	fmt.Println(err)

	fmt.Println("close:", s.Close(ctx), "outstanding:", s.Outstanding())
	// Output:
	// order example-1 new <nil>
	// session: venue refused request 3: code -2010: Account has insufficient balance for requested action.
	// close: <nil> outstanding: 0
}

// Market data only: books kept live, trades on a subscription, a
// connection's state changes as events.
func Example_marketData() {
	venue := venuesim.Start(nil)
	defer venue.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: venue.CombinedURL(), REST: venue.RESTURL()},
		Symbols:   []string{"BTC-USDT", "ETH-USDT"},
		Channels:  []string{"trade", "depth@100ms"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	trades := make(chan *schema.CanonicalEvent, 1024)
	_, _ = s.Dispatcher().Subscribe(dispatch.Filter{Symbols: []string{"ETH-USDT"}, Types: []schema.EventType{schema.EventTrade}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
			select {
			case trades <- ev:
			default: // a real strategy would not drop; the example only needs one
			}
		}})
	if err := s.WaitConnected(ctx); err != nil { // connected, books live
		fmt.Println(err)
	}
	_, live := s.Book("BTC-USDT").BBO()
	fmt.Println("BTC-USDT book live:", live)
	ev := <-trades
	fmt.Println("trade", ev.Symbol, ev.Trade.Price.Sign() > 0)
	fmt.Println("close:", s.Close(ctx), "outstanding:", s.Outstanding())
	// Output:
	// BTC-USDT book live: true
	// trade ETH-USDT true
	// close: <nil> outstanding: 0
}

// The private channels of another venue: with Config.Key the session logs
// in to OKX's private WebSocket (anew, with OKX's time, on every
// connection) and hands its execution reports and balances to the host.
// Not run: it needs OKX and a key.
func ExampleOKXKey() {
	ctx := context.Background()
	pools := schema.NewPools(nil) // the session's, given so that the handler can Put
	s, err := session.Start(ctx, session.Config{
		Pools: pools,
		Venue: schema.VenueOKX,
		Endpoints: session.Endpoints{
			Stream: "wss://ws.okx.com:8443/ws/v5/public",
			API:    "wss://ws.okx.com:8443/ws/v5/private",
			REST:   "https://www.okx.com", // instrument rules and server time
		},
		Symbols:  []string{"BTC-USDT"},
		Channels: []string{"trades"},
		Key:      &session.OKXKey{APIKey: "…", Passphrase: "…", Secret: []byte("…")},
		OnExecReport: func(r *schema.ExecReport) {
			fmt.Println(r.Symbol, r.Status, r.CumFillQty)
			pools.Execs.Put(r) // done with it: no reference kept
		},
		OnAccount: func(ev *schema.CanonicalEvent) { fmt.Println(ev.Balance.Asset, ev.Balance.Free) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close(ctx)
	var refused *session.LoginError
	if err := s.WaitConnected(ctx); errors.As(err, &refused) {
		fmt.Println("OKX refused the login:", refused.Code, refused.Msg)
	}
}
