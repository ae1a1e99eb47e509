// Package wsclient keeps one venue WebSocket connection delivering, and
// says so when it cannot: the stream never goes quiet silently.
//
// # Lifecycle
//
// [New] checks the URL and [Options]; [Client.Run] dials, subscribes and
// reads until [Client.Close], the end of its context or a permanent error.
// Run is the only call that blocks for long: the host decides which
// goroutine runs it. When Run returns, every goroutine the client started
// has stopped and every frame is back in its pool.
//
// # Reading
//
// One reader goroutine per connection reads each message with
// [websocket.Conn.Reader] into the Data buffer of a [schema.WsFrame] taken
// from the frame pool (capacity kept across uses), stamps it and calls the
// [Handler]. The frame goes back to the pool when the handler returns, on
// every path: the handler must not keep it. In steady state a message costs
// no allocation (TestZeroAllocsPerFrame, BenchmarkRead).
//
// Reads use a context without a Done channel. coder/websocket closes a
// connection whose read context expires, and a cancelable context costs
// allocations on every read; the client ends a connection by closing it.
//
// Text messages that are not UTF-8 are dropped and reported
// ([ErrInvalidUTF8]); other bad content is the handler's to refuse: its
// error is counted and reported, and the connection is kept. A message
// over Options.ReadLimit is an [*OversizedError], counted, and the
// connection is re-established.
//
// # Liveness
//
// A pinger goroutine pings every Options.PingInterval (Conn.Ping needs the
// concurrent reader to receive the pong), and a watchdog declares the
// connection dead on either of:
//
//   - idle: the reader has waited on the socket for Options.IdleTimeout
//     without a message ([ErrIdle]);
//   - pong timeout: since the outstanding ping was sent, the reader has
//     waited on the socket for Options.PongTimeout in all without the pong
//     arriving ([ErrPongTimeout]). Data still arriving does not save a
//     connection whose venue no longer answers: it may no longer read what
//     we write either.
//
// Both clocks count only the time the reader waits on the socket. Time in
// the handler does not count: a slow handler is never taken for a dead
// venue, however slow it is. While it runs, the messages behind it wait in
// the kernel's socket buffers, then TCP pushes back on the venue; the client
// holds one frame, never a backlog. A pong queued behind those messages is
// late only in wall-clock time, not in waiting time. The cost of this
// choice: a venue that dies while the handler is busy is detected up to
// one handler call late.
//
// # Reconnecting
//
// A lost connection is reported ([schema.ConnDisconnected] with its
// [Reason] and error: a possible gap in the data), then redialled after a
// capped exponential backoff with full jitter ([schema.ConnReconnecting]
// with attempt and delay). The attempt count starts again after a
// connection lived Options.BackoffReset. A bad URL, a handshake refused
// with 401 or 403 and a certificate that fails verification are permanent
// ([ErrPermanent]): Run reports them and returns.
//
// Options.Subscriptions and Options.Topics are sent on every new
// connection, paced at Options.ControlRate, topics split in messages of
// Options.MaxTopicsPerMessage. More topics than one connection may carry
// go to several clients ([SplitTopics]).
//
// # Rotation
//
// With Options.MaxAge set, a connection that age is replaced
// make-before-break ([schema.ConnRotating]): the new connection is dialled
// and subscribed while the old one keeps delivering; the new one's messages
// wait (up to a quarter of the frame pool, then TCP pushes back) until it
// has delivered its first message and Options.RotationOverlap has passed.
// Then delivery switches: the waiting messages go to the handler, the old
// connection is closed. The handler thus sees the old stream, then the new
// one, never interleaved; the overlap means some messages arrive twice.
// Removing those duplicates (by sequence number, trade id, update id) is the
// normalizer's job, not this package's, which does not parse messages.
// A rotation that fails keeps the old connection and is retried after a
// backoff.
//
// # Visible state
//
// Options.OnEvent receives every state change and reported error, on a
// goroutine of its own fed by a bounded queue: the reader never waits for
// the host. [Client.Stats] gives the counters at any time without
// allocating.
//
// # TLS
//
// wss:// certificates are verified by default (http.DefaultClient). A
// custom *http.Client (own roots, client certificates, proxy) and handshake
// headers can be passed; an HTTP client that skips verification is refused
// unless Options.AllowInsecureTLS says so.
package wsclient
