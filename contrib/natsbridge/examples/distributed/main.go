// Distributed runs, in one process, what a trading team runs on several
// machines: a simulated venue, one ingest node that holds the venue
// connections and publishes every canonical event to NATS, and two consumer
// nodes that each feed their own dispatcher from NATS — strategy-a takes
// everything about BTC-USDT, strategy-b the trades of every symbol — both with
// the execution reports of the ingest node's orders, through JetStream.
//
// By default NATS is embedded (JetStream in a temporary directory); -nats
// points the same nodes at a real server or cluster.
//
//	go run ./examples/distributed
//	go run ./examples/distributed -duration 10s -nats nats://10.0.0.5:4222,nats://10.0.0.6:4222
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/meltica/meltica/contrib/natsbridge"
	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "distributed:", err)
		os.Exit(1)
	}
}

// consumerNode is one strategy host: its own pools, dispatcher and bridge
// Consumer, and a subscriber that counts what arrives.
type consumerNode struct {
	name   string
	pools  *schema.Pools
	d      *dispatch.Dispatcher
	cons   *natsbridge.Consumer
	mu     sync.Mutex
	counts map[schema.EventType]int
	states []string
	execs  []string
	// open are the client order ids whose final report the node waits
	// for; ready is closed once none is left and a trade has come.
	open    map[string]bool
	ready   chan struct{}
	isReady bool
}

func startConsumer(ctx context.Context, url, name string, subjects, orders []string, out io.Writer) (*consumerNode, func(), error) {
	n := &consumerNode{name: name, pools: schema.NewPools(nil), counts: map[schema.EventType]int{},
		open: map[string]bool{}, ready: make(chan struct{})}
	for _, id := range orders {
		n.open[id] = true
	}
	n.d = dispatch.New(n.pools.Events, nil)
	_, err := n.d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: n.handle})
	if err != nil {
		return nil, nil, err
	}
	nc, err := natsbridge.Connect(url, &natsbridge.ConnectOptions{Name: name})
	if err != nil {
		return nil, nil, err
	}
	n.cons, err = natsbridge.NewConsumer(ctx, nc, n.d, n.pools.Events, &natsbridge.ConsumerOptions{Durable: name, Subjects: subjects})
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	fmt.Fprintf(out, "%s: subscribed to %s\n", name, strings.Join(subjects, " "))
	return n, nc.Close, nil
}

func (n *consumerNode) handle(ev *schema.CanonicalEvent) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.counts[ev.Type]++
	switch ev.Type {
	case schema.EventConnState:
		if c := ev.Control; c != nil { // a section is nil unless the event carries it
			n.states = append(n.states, string(ev.Venue)+" "+c.State.String())
		}
	case schema.EventExecReport:
		x := ev.Exec
		if x == nil {
			return
		}
		n.execs = append(n.execs, fmt.Sprintf("%s %s %s %s filled %s of %s @ %s", ev.Symbol, x.ClientOrderID.String(),
			x.ExecType, x.Status, x.CumFillQty, x.Qty, x.LastFillPrice))
		if x.Status.Final() {
			delete(n.open, x.ClientOrderID.String())
		}
	}
	if !n.isReady && len(n.open) == 0 && n.counts[schema.EventTrade] > 0 {
		n.isReady = true
		close(n.ready)
	}
}

func (n *consumerNode) print(out io.Writer) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var types []string
	for t, c := range n.counts {
		types = append(types, fmt.Sprintf("%s=%d", t, c))
	}
	sort.Strings(types)
	st := n.cons.Stats()
	fmt.Fprintf(out, "%s received: %s\n", n.name, strings.Join(types, " "))
	fmt.Fprintf(out, "  nats states: %s\n", strings.Join(n.states, ", "))
	for _, x := range n.execs {
		fmt.Fprintf(out, "  exec %s\n", x)
	}
	fmt.Fprintf(out, "  bridge: %d messages, %d gap markers (%d lost), %d slow-consumer drops, %d execution reports\n",
		st.Received, st.Gaps, st.Lost, st.SlowDropped, st.ExecDelivered)
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("distributed", flag.ContinueOnError)
	duration := fs.Duration("duration", 3*time.Second, "how long to stream")
	natsURL := fs.String("nats", "", "NATS server URLs, comma-separated; empty runs an embedded server")
	rate := fs.Int("rate", 500, "simulated venue: messages per second")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait at most for the orders' answers and, after -duration, for each node's trades and final reports")
	if err := fs.Parse(args); err != nil {
		return err
	}
	out = &lockedWriter{w: out}

	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: *rate})
	defer venue.Close()
	fmt.Fprintf(out, "simulated venue on %s (%d msg/s)\n", venue.URL(), *rate)
	url := *natsURL
	if url == "" {
		dir, err := os.MkdirTemp("", "meltica-nats-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		srv, err := embedded.Start(dir, 0)
		if err != nil {
			return err
		}
		defer srv.Stop()
		url = srv.ClientURL()
		fmt.Fprintf(out, "embedded NATS with JetStream on %s\n", url)
	}

	// Consumers first, so that they see the stream from its start.
	a, closeA, err := startConsumer(ctx, url, "strategy-a", []string{"meltica.binance.BTC-USDT.>"}, []string{"demo-btc-1"}, out)
	if err != nil {
		return err
	}
	defer closeA()
	b, closeB, err := startConsumer(ctx, url, "strategy-b", []string{"meltica.*.*.trade", "meltica.*.*.exec_report"},
		[]string{"demo-btc-1", "demo-eth-1"}, out)
	if err != nil {
		return err
	}
	defer closeB()

	in, err := startIngest(ctx, venue.RESTURL(), venue.CombinedURL(), venue.APIURL(),
		[]string{"BTC-USDT", "ETH-USDT"}, []string{"trade", "bookTicker", "depth@100ms"})
	if err != nil {
		return err
	}
	pubConn, err := natsbridge.Connect(url, &natsbridge.ConnectOptions{Name: "ingest"})
	if err != nil {
		return err
	}
	defer pubConn.Close()
	pub, err := natsbridge.NewPublisher(ctx, pubConn, in.d, nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "ingest: publishing to meltica.<venue>.<symbol>.<type>")

	orderCtx, cancel := context.WithTimeout(ctx, *wait)
	err = errors.Join(in.buy(orderCtx, 1, "BTC-USDT", "demo-btc-1", "0.02"), in.buy(orderCtx, 2, "ETH-USDT", "demo-eth-1", "0.5"))
	cancel()
	if err != nil {
		return err
	}
	select {
	case <-time.After(*duration):
	case <-ctx.Done():
	}
	// Then until each node has had a trade and the final report of each of
	// its orders (the fills come after the answers, through JetStream; a
	// busy machine may need longer than -duration), at most -wait.
	caughtUp, cancel := context.WithTimeout(ctx, *wait)
	for _, n := range []*consumerNode{a, b} {
		select {
		case <-n.ready:
		case <-caughtUp.Done():
		}
	}
	cancel()

	// Shut down from the venue inwards, each stage draining into the next.
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := []error{in.closeConns(shutdown), in.d.Close(shutdown), pub.Close(shutdown)}
	for _, n := range []*consumerNode{a, b} {
		errs = append(errs, n.cons.Close(shutdown), n.d.Close(shutdown))
	}
	ps := pub.Stats()
	fmt.Fprintf(out, "\ningest published %d events (%d refused by NATS), %d execution reports stored\n", ps.Published, ps.Dropped, ps.ExecStored)
	a.print(out)
	b.print(out)
	errs = append(errs, in.pools.Shutdown(shutdown), a.pools.Shutdown(shutdown), b.pools.Shutdown(shutdown))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var outstanding int64
	for _, p := range []*schema.Pools{in.pools, a.pools, b.pools} {
		for _, s := range p.Stats() {
			outstanding += s.InUse
		}
	}
	fmt.Fprintf(out, "leak check: %d outstanding\n", outstanding)
	return nil
}

// lockedWriter serialises the nodes' writes.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
