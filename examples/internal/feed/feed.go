// Package feed wires one venue connection through the whole pipeline —
// wsclient → normalize → dispatch — the way a host application would. The
// examples share it; read it as the reference wiring.
package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// Binance's public endpoints, for -live.
const (
	LiveStreamURL = "wss://stream.binance.com:9443/stream"
	LiveRESTURL   = "https://api.binance.com"
	LiveAPIURL    = "wss://ws-api.binance.com:443/ws-api/v3"
)

// Config says what to connect to and what to subscribe.
type Config struct {
	// Venue is the simulated venue to use; nil means Binance's live
	// endpoints.
	Venue *venuesim.Venue
	// Symbols are canonical symbols ("BTC-USDT").
	Symbols []string
	// Channels are Binance stream channels ("trade", "bookTicker",
	// "depth@100ms", ...), subscribed for every symbol.
	Channels []string
	// Client tunes the connection (liveness, backoff, rotation); Venue,
	// Frames, Topics, EncodeSubscribe and OnEvent are set by Start.
	Client wsclient.Options
	// OnState sees every connection event, after it was published to the
	// dispatcher as an EventConnState.
	OnState func(wsclient.Event)
}

// Feed is a running pipeline.
type Feed struct {
	Pools      *schema.Pools
	Dispatcher *dispatch.Dispatcher
	Parser     *normalize.Parser
	Client     *wsclient.Client
	Symbols    *normalize.Symbols
	Started    time.Time

	runErr    chan error
	lastState atomic.Uint32 // schema.ConnState last published
}

// Start builds the pipeline and connects. The dispatcher is ready for
// Subscribe as soon as Start returns; subscribe before events matter to you.
func Start(ctx context.Context, cfg Config) (*Feed, error) {
	f := &Feed{Pools: schema.NewPools(nil), Symbols: normalize.NewBinanceSymbols(), runErr: make(chan error, 1)}
	rest, stream := LiveRESTURL, LiveStreamURL
	if cfg.Venue != nil {
		rest, stream = cfg.Venue.RESTURL(), cfg.Venue.CombinedURL()
	}
	// Load the venue's instrument list, so that symbols resolve exactly.
	if err := loadInstruments(ctx, f.Symbols, rest); err != nil {
		return nil, err
	}
	var topics []string
	for _, sym := range cfg.Symbols {
		for _, ch := range cfg.Channels {
			s, err := normalize.BinanceStream(f.Symbols, sym, ch)
			if err != nil {
				return nil, err
			}
			topics = append(topics, s)
		}
	}
	f.Dispatcher = dispatch.New(f.Pools.Events, nil)
	f.Parser = normalize.NewBinance(f.Pools.Events, f.Dispatcher, &normalize.Options{Symbols: f.Symbols})
	opts := cfg.Client
	opts.Venue = schema.VenueBinance
	opts.Frames = f.Pools.Frames
	opts.Topics = topics
	opts.EncodeSubscribe = func(dst []byte, n int, topics []string) []byte {
		msg, err := normalize.BinanceSubscribe(uint64(n), topics...)
		if err != nil {
			return dst
		}
		return append(dst, msg...)
	}
	opts.OnEvent = func(e wsclient.Event) {
		f.publishState(e)
		if cfg.OnState != nil {
			cfg.OnState(e)
		}
	}
	client, err := wsclient.New(stream, f.Parser.HandleFrame, &opts)
	if err != nil {
		_ = f.Dispatcher.Close(ctx)
		return nil, err
	}
	f.Client = client
	f.Started = time.Now()
	go func() { f.runErr <- client.Run(context.WithoutCancel(ctx)) }()
	return f, nil
}

// publishState turns a connection state change into an EventConnState for
// the subscribers: a Disconnected event tells them data may be missing.
// Reported errors that leave the state as it was are not published.
func (f *Feed) publishState(e wsclient.Event) {
	if schema.ConnState(f.lastState.Swap(uint32(e.State))) == e.State {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ev, err := f.Pools.Events.Get(ctx)
	if err != nil {
		return
	}
	ev.Venue = schema.VenueBinance
	ev.Type = schema.EventConnState
	ev.IngestTS = e.At.UnixNano()
	ev.Control.Kind = schema.ControlConnState
	ev.Control.State = e.State
	ev.Control.Code = int64(e.ConnID)
	ev.Control.Reason = e.Reason.String()
	_ = f.Dispatcher.Publish(ctx, ev)
}

// Close stops the connection and the dispatcher, then shuts the pools down:
// its error reports any pooled object that never came back.
func (f *Feed) Close(ctx context.Context) error {
	errClient := f.Client.Close(ctx)
	if err := <-f.runErr; err != nil && !errors.Is(err, context.Canceled) && errClient == nil {
		errClient = err
	}
	errDispatch := f.Dispatcher.Close(ctx)
	errPools := f.Pools.Shutdown(ctx)
	return errors.Join(errClient, errDispatch, errPools)
}

// Outstanding is how many pooled objects are checked out, over all pools.
func (f *Feed) Outstanding() int64 {
	var n int64
	for _, s := range f.Pools.Stats() {
		n += s.InUse
	}
	return n
}

// PrintPools writes the pool statistics as a table.
func (f *Feed) PrintPools(w io.Writer) {
	fmt.Fprintf(w, "  %-7s %8s %8s %8s %7s %6s %6s\n", "pool", "gets", "puts", "created", "in use", "peak", "waits")
	for _, s := range f.Pools.Stats() {
		fmt.Fprintf(w, "  %-7s %8d %8d %8d %7d %6d %6d\n", s.Name, s.Gets, s.Puts, s.Created, s.InUse, s.PeakInUse, s.Waits)
	}
}

func loadInstruments(ctx context.Context, syms *normalize.Symbols, rest string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ins, err := normalize.FetchBinanceInstruments(ctx, nil, rest)
	if err != nil {
		return err
	}
	return syms.Load(ins)
}
