package natsbridge

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/meltica/meltica/schema"
)

// Defaults of ConnectOptions.
const (
	DefaultReconnectBuf   = 4 << 20
	DefaultFlusherTimeout = time.Second
	DefaultReconnectWait  = 250 * time.Millisecond
)

// ConnectOptions tune Connect. A nil *ConnectOptions gives the defaults.
type ConnectOptions struct {
	// Name names the connection in the server's monitoring. Defaults to
	// "meltica".
	Name string
	// ReconnectBuf bounds, in bytes, what Publish buffers while the
	// connection is re-established; past it Publish fails at once (the
	// Publisher counts the loss) instead of growing. Defaults to
	// DefaultReconnectBuf (4 MiB).
	ReconnectBuf int
	// FlusherTimeout bounds one write to the socket, so that a server that
	// stops reading cannot block a publisher for long: the write fails, the
	// connection is dropped and re-established. Defaults to
	// DefaultFlusherTimeout (1 s; nats.go's own default is a minute).
	FlusherTimeout time.Duration
	// ReconnectWait is the base wait between reconnect attempts (nats.go
	// adds jitter). Attempts never stop. Defaults to DefaultReconnectWait.
	ReconnectWait time.Duration
	// Extra are applied after the options above: credentials, TLS, and so
	// on. Defaults to none.
	Extra []nats.Option
}

// Connect dials the NATS servers in url (comma-separated, as nats.Connect
// takes them) with settings that suit the bridge: reconnect forever, a
// bounded reconnect buffer, a short write timeout, and a first connection
// that is retried in the background when the servers are not up yet. The
// connection is the caller's to Close, after the Publishers and Consumers
// that use it.
func Connect(url string, opts *ConnectOptions) (*nats.Conn, error) {
	var o ConnectOptions
	if opts != nil {
		o = *opts
	}
	if o.Name == "" {
		o.Name = "meltica"
	}
	if o.ReconnectBuf <= 0 {
		o.ReconnectBuf = DefaultReconnectBuf
	}
	if o.FlusherTimeout <= 0 {
		o.FlusherTimeout = DefaultFlusherTimeout
	}
	if o.ReconnectWait <= 0 {
		o.ReconnectWait = DefaultReconnectWait
	}
	nopts := append([]nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(o.ReconnectWait),
		nats.ReconnectBufSize(o.ReconnectBuf),
		nats.FlusherTimeout(o.FlusherTimeout),
		nats.RetryOnFailedConnect(true),
		// Errors (slow consumers above all) are counted by the bridge;
		// nats.go's default handler would print each one.
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}),
	}, o.Extra...)
	return nats.Connect(url, nopts...)
}

// StateEvent is a change of a NATS connection's state, in the state model of
// the venue connections (wsclient): schema.ConnConnected,
// schema.ConnDisconnected (what was published meanwhile may be lost),
// schema.ConnReconnecting and schema.ConnClosed.
type StateEvent struct {
	State      schema.ConnState
	Reconnects uint64 // reconnections of the connection so far
	URL        string // the server, when connected (credentials redacted)
	Err        error  // the last error, when disconnected
	At         time.Time
}

// watcher turns nats.go's status changes into StateEvents on a goroutine of
// its own; stop ends it.
type watcher struct {
	nc   *nats.Conn
	ch   chan nats.Status
	done chan struct{}
	fn   func(StateEvent)
	last schema.ConnState
	once sync.Once
}

func watch(nc *nats.Conn, fn func(StateEvent)) *watcher {
	w := &watcher{nc: nc, done: make(chan struct{}), fn: fn}
	w.ch = nc.StatusChanged(nats.CONNECTED, nats.RECONNECTING, nats.DISCONNECTED, nats.CLOSED)
	w.emit(stateOf(nc.Status()))
	go w.run()
	return w
}

func (w *watcher) run() { w.watch(false) }

// watch reports the states nats.go sends until the listener is removed;
// resumed, it first converges on the connection's state: the goroutine
// before it ended inside fn, maybe between two states of one change.
func (w *watcher) watch(resumed bool) {
	ended := false
	defer func() {
		if !ended {
			// fn ended the goroutine with runtime.Goexit (the host's
			// OnState, as t.FailNow does): watch on from a new one, or no
			// state would be published again — a later link loss never
			// marking the far side's streams stale.
			go w.watch(true)
			return
		}
		close(w.done)
	}()
	if resumed {
		w.emit(stateOf(w.nc.Status()))
	}
	for s := range w.ch {
		w.emit(stateOf(s))
		// nats.go drops status events when the channel is full: converge on
		// the connection's actual state once the channel is drained.
		if len(w.ch) == 0 {
			w.emit(stateOf(w.nc.Status()))
		}
	}
	ended = true
}

// emit reports st unless it is the state already reported. A reconnect is
// reported as disconnected, then reconnecting, as wsclient does: the
// disconnection is what tells a subscriber that data may be missing.
func (w *watcher) emit(st schema.ConnState) {
	if st == schema.ConnUnknown || st == w.last {
		return
	}
	if st == schema.ConnReconnecting && w.last == schema.ConnConnected {
		w.send(schema.ConnDisconnected)
	}
	w.send(st)
}

func (w *watcher) send(st schema.ConnState) {
	w.last = st
	e := StateEvent{State: st, Reconnects: w.nc.Stats().Reconnects, At: time.Now()}
	if st == schema.ConnConnected {
		e.URL = w.nc.ConnectedUrlRedacted()
	} else {
		e.Err = w.nc.LastError()
	}
	w.fn(e)
}

// stop removes the listener and waits for the goroutine to finish.
func (w *watcher) stop() {
	w.once.Do(func() { w.nc.RemoveStatusListener(w.ch) })
	<-w.done
}

func stateOf(s nats.Status) schema.ConnState {
	switch s {
	case nats.CONNECTED:
		return schema.ConnConnected
	case nats.RECONNECTING:
		return schema.ConnReconnecting
	case nats.DISCONNECTED:
		return schema.ConnDisconnected
	case nats.CLOSED:
		return schema.ConnClosed
	case nats.CONNECTING:
		return schema.ConnConnecting
	}
	return schema.ConnUnknown
}

// DefaultWait bounds a wait on the server (a flush, creating the stream)
// when the caller's context has no deadline.
const DefaultWait = 5 * time.Second

// flush waits until the server has processed everything sent on nc so far.
// nats.go refuses a context without a deadline; one gets DefaultWait.
func flush(ctx context.Context, nc *nats.Conn) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultWait)
		defer cancel()
	}
	return nc.FlushWithContext(ctx)
}
