// Metrics runs a Binance pipeline against the embedded simulated venue —
// wsclient → normalize → book → dispatch — and serves its statistics to
// Prometheus on /metrics until interrupted (or -duration).
//
//	cd contrib/prometheus && go run ./examples/metrics
//	curl -s http://127.0.0.1:9464/metrics | grep ^meltica_
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/meltica/meltica/contrib/prometheus"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "metrics:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("metrics", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9464", "address to serve /metrics on")
	duration := fs.Duration("duration", 0, "stop after this long (default: until interrupted)")
	rate := fs.Int("rate", 500, "simulated venue: messages per second")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := start(ctx, *addr, *rate, slog.New(slog.NewTextHandler(out, nil)))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "serving metrics on %s\n", a.URL)
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	<-ctx.Done()
	return a.Close()
}

// app is the running pipeline and its metrics server.
type app struct {
	URL    string // http://host:port/metrics
	venue  *venuesim.Venue
	client *wsclient.Client
	disp   *dispatch.Dispatcher
	pools  *schema.Pools
	srv    *http.Server
	runErr chan error
	srvErr chan error
}

func start(ctx context.Context, addr string, rate int, log *slog.Logger) (a *app, err error) {
	a = &app{runErr: make(chan error, 1), srvErr: make(chan error, 1)}
	a.venue = venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: rate})
	defer func() {
		if err != nil {
			a.venue.Close()
		}
	}()
	a.pools = schema.NewPools(nil)
	syms := normalize.NewBinanceSymbols()
	ins, err := normalize.FetchBinanceInstruments(ctx, http.DefaultClient, a.venue.RESTURL())
	if err != nil {
		return nil, err
	}
	if err := syms.Load(ins); err != nil {
		return nil, err
	}
	a.disp = dispatch.New(a.pools.Events, nil)
	books := book.NewBooks(a.disp, a.pools.Events, nil)
	btc, err := book.NewBook(book.Binance, "BTC-USDT", &book.Options{
		Sink: a.disp, Events: a.pools.Events,
		Fetcher: &book.BinanceREST{BaseURL: a.venue.RESTURL(), VenueSymbol: syms.VenueSymbol},
	})
	if err != nil {
		return nil, err
	}
	books.Add(btc)
	parser := normalize.NewBinance(a.pools.Events, books, &normalize.Options{Symbols: syms})
	sub, err := a.disp.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
	if err != nil {
		return nil, err
	}
	a.client, err = wsclient.New(a.venue.StreamURL("btcusdt@trade", "btcusdt@depth@100ms", "ethusdt@bookTicker"), parser.HandleFrame,
		&wsclient.Options{Venue: schema.VenueBinance, Frames: a.pools.Frames, OnEvent: func(e wsclient.Event) {
			log.Info("connection state", "venue", "binance", "connection", e.ConnID, "state", e.State.String())
		}})
	if err != nil {
		return nil, err
	}

	col := prometheus.New(nil)
	col.AddPools(a.pools.Stats)
	col.AddClient(schema.VenueBinance, "market", a.client)
	col.AddParser(schema.VenueBinance, "market", parser)
	col.AddBook(btc)
	col.AddSubscription("all", sub)
	reg := prom.NewRegistry()
	if err := reg.Register(col); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	a.URL = "http://" + ln.Addr().String() + "/metrics"
	go func() { a.srvErr <- a.srv.Serve(ln) }()
	go func() { a.runErr <- a.client.Run(context.WithoutCancel(ctx)) }()
	return a, nil
}

// Close stops the client, the dispatcher, the server and the venue, and
// checks that every pooled object came back.
func (a *app) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := a.client.Close(ctx)
	err = errors.Join(err, <-a.runErr, a.disp.Close(ctx), a.srv.Shutdown(ctx))
	if serr := <-a.srvErr; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	a.venue.Close()
	return errors.Join(err, a.pools.Shutdown(ctx))
}
