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
// [Handler]. The reader owns that frame while the handler runs and reuses it
// for the next message; it goes back to the pool when the reader exits: the
// handler must not keep f or f.Data. The frame's buffer grows to the
// largest message of the connection and keeps that size while the
// connection lives; a frame goes back to the pool with at most 256 KiB
// (a larger buffer is replaced by one of the default size), so that a
// venue's large snapshot at every connection does not leave the whole
// pool holding megabytes; a pool that makes its frames larger than that
// keeps them at the size they were taken with. A reader that finds the pool exhausted
// (shared by more connections than it has frames) waits for a frame and
// reports it ([ErrFramesExhausted]): nothing is read meanwhile, and the
// watchdog does not count that wait. In steady state a message costs no
// allocation, one clock read and seven uncontended atomic operations (two
// liveness marks for the watchdog, three Stats counters, and a mark of the
// handler call under way, which a rotation waits on so that the handler
// never runs twice at once; with Options.DataTimeout, a call of
// Options.IsData and an eighth for a data message), no lock, besides
// coder/websocket's own work (TestZeroAllocsPerFrame, BenchmarkRead; against
// bare coder/websocket: WSRead and WSReadMem in the benchmarks module) and
// the frame guard's read of each frame's header (see below: 6–15 ns a
// frame on a loaded 2-vCPU machine, BenchmarkFrameGuard). A
// text message is also checked for UTF-8, which coder/websocket does not do:
// utf8.Valid took 24–33 ns per 150 B and 210–250 ns per 4 KiB on a loaded
// 2-vCPU machine (BenchmarkReadLoopParts); Options.SkipUTF8Check turns it
// off. ReceivedAt is the wall time of the connection's dial plus the
// monotonic time since (one vDSO read instead of time.Now's two): a step of
// the system clock during the connection's life does not move it; the next
// connection takes the stepped clock.
//
// Reads use a context without a Done channel. coder/websocket closes a
// connection whose read context expires, and a cancelable context costs
// allocations on every read; the client ends a connection by closing it.
//
// The WebSocket protocol is coder/websocket's, and so are its protocol
// errors (reserved bits, unknown opcodes, bad fragments, control frames
// over 125 bytes, invalid close codes): a read error, and the connection is
// re-established ([ReasonReadError]). Two RFC 6455 rules of reading
// coder/websocket v1.8.15 does not keep, the client keeps with a guard
// that reads the frames' headers (2 to 10 bytes each, no copy, no
// allocation) on their way to coder/websocket: a masked frame from the
// server (§5.1: the client MUST close the connection; coder/websocket
// delivered its payload still masked) is a read error, [ErrMaskedFrame];
// a connection that ends without a close frame inside a frame or between
// the fragments of a message (§5.4, §7.1.5; coder/websocket delivered
// the part received as a whole message) is a read error,
// [ErrMessageCut], and the part is not delivered. A panic while reading a
// message (coder/websocket on the venue's bytes, or the host's transport
// under it) is recovered: a read error, [ErrReadPanic], and the
// connection is re-established; one while the close handshake reads the
// venue's answer cuts the socket. The handler's own panics are not
// recovered.
//
// Text messages that are not UTF-8 are dropped and reported
// ([ErrInvalidUTF8]); other bad content is the handler's to refuse: its
// error is counted and reported, and the connection is kept. A message
// over Options.ReadLimit is read to its end and dropped: an
// [*OversizedError], counted and reported, and the connection is kept
// (the message takes its Seq, as an invalid one does, so the frames' Seq
// shows one missing). Only a message over [DiscardLimit] (1 GiB, or
// ReadLimit when larger) — or a frame whose header says it is — ends the
// connection (the venue told with status 1009 when its bytes came), which
// is re-established.
//
// # Liveness
//
// A pinger goroutine pings every Options.PingInterval (Conn.Ping needs the
// concurrent reader to receive the pong), and a watchdog declares the
// connection dead on any of:
//
//   - idle: the reader has waited on the socket for Options.IdleTimeout
//     without a whole message arriving ([ErrIdle]): a message that takes
//     longer than IdleTimeout to arrive counts as silence;
//   - pong timeout: since the outstanding ping was sent, the reader has
//     waited on the socket for Options.PongTimeout in all without the pong
//     arriving ([ErrPongTimeout]). Data still arriving does not save a
//     connection whose venue no longer answers: it may no longer read what
//     we write either;
//   - no data (only with Options.DataTimeout): the reader has waited on
//     the socket for DataTimeout in all without a message that
//     Options.IsData counts as data ([ErrNoData], [ReasonNoData]), while
//     heartbeats, pongs or acknowledgements may still arrive. Heartbeats
//     are messages and feed the idle watchdog, so without it a venue whose
//     subscriptions stop delivering while its heartbeats go on (a stall
//     reported of real venues: pybit #242, Polymarket
//     real-time-data-client #26) is never taken for dead. The timeout is
//     per connection: a stream that stalls while others on the same
//     connection deliver is the normalizer's to see.
//
// All count only the time the reader waits on the socket. Time in the
// handler does not count: a slow handler is never taken for a dead venue,
// however slow it is. While it runs, the messages behind it wait in the
// kernel's socket buffers, then TCP pushes back on the venue; the client
// holds one frame, never a backlog. A pong queued behind those messages is
// late only in wall-clock time, not in waiting time. The cost of this
// choice: a venue that dies while the handler is busy is detected up to
// one handler call late.
//
// The watchdog samples the reader every eighth of the shorter timeout
// instead of timing each wait, so that the reader reads no clock for
// liveness: detection comes within one such tick after the timeout.
//
// When the venue closes the connection with a close frame, its code and
// reason are what the host sees ([ReasonPeerClosed]; the event's Err
// matches a [websocket.CloseError] through errors.As, and
// websocket.CloseStatus gives the code), even when a ping or a
// subscription write fails at the same moment: a failed write waits for
// the reader's verdict (up to PongTimeout) before it ends the connection.
// coder/websocket answers the venue's close frame with the same code.
// A close code that may not be sent (1005, 1006, 1015), a reserved or
// unassigned one (under 1000, 1004, 1016–2999) or one over 4999 is a
// protocol error ([ReasonReadError]). A close reason that is not UTF-8
// is taken as coder/websocket takes it, with its code, although RFC 6455
// §8.1 says to fail the connection: the connection ends either way, and
// the code is what sets the redial's floor (below).
//
// Venues that want an application-level ping (OKX v5 closes a connection
// that pushed nothing for 30 s unless it gets the text "ping"; Bybit v5
// asks for {"op":"ping"} every 20 s) get Options.Heartbeat, written every
// Options.HeartbeatInterval (20 s) from the dial. The venue's answer is a
// message like any other: it reaches the handler (normalize reads OKX's
// "pong" and Bybit's {"op":"pong"} as heartbeats) and keeps the idle
// watchdog fed on a quiet stream. Binance needs none (it pings every 20 s
// and wants the pong within a minute: coder/websocket answers a ping
// while the reader reads), nor Kraken v2 (a heartbeat a second once
// subscribed) nor Coinbase (its "heartbeats" channel, a subscription).
//
// Every wait (ping interval, timeouts, dial timeout, MaxAge, rotation
// overlap, backoff, Retry-After, pacing, heartbeat, close handshake) runs
// on Options.Clock, so tests
// drive them with a fake clock and never sleep.
//
// # Reconnecting
//
// A lost connection is reported ([schema.ConnDisconnected] with its [Reason]
// and error: a possible gap in the data), then redialled after a capped
// exponential backoff with full jitter ([schema.ConnReconnecting] with
// attempt and delay; the wait is armed on the Clock before the event is
// announced, so that a host's test that moves its fake clock by Delay
// when it sees the event gets the redial). The attempt count starts again after the client
// delivered without a break (rotations included; the silence that ended a
// connection at IdleTimeout or DataTimeout not counted) for
// Options.BackoffReset. What the venue said sets a floor under that
// wait (RFC 6455 §7.4.1 and the IANA close code registry): a close with 1012
// (service restart), 1013 (try again later) or 1014 (bad gateway) is not
// redialled before Options.TryAgainDelay (5 s); a close with 1003, 1007,
// 1008, 1009 or 1010 (the venue refuses what the client sent: unsupported
// or invalid data, policy, a message too big for it) and a handshake refused with a 4xx status other than
// 401, 403 and 408 and without Retry-After are not redialled before
// Options.BackoffCap (30 s), since a tight retry would only be refused
// again; a 403 without Retry-After, at exchanges an IP over its limits or
// a CDN's block that lifts (Bybit: "wait for at least 10 minutes"; Binance
// answers 403 for its WAF limit), not before Options.ForbiddenDelay
// (10 min). Each floor gets up to a quarter of itself as jitter, so that
// clients sent away together do not all return at once. 1000, 1001, 1011 and
// codes of the venue's own (4000–4999) get the plain backoff: Binance, for
// one, ends every connection at 24 h (set MaxAge under that, and the
// replacement is up before it goes). A handshake refused with a Retry-After
// (Binance: 429, and 418 for a banned IP) is not redialled before it: the
// Reconnecting event's Delay is the venue's wait and its error a
// [*HandshakeError] with the status and RetryAfter. A Retry-After given as
// an HTTP date is read against the answer's Date header, the venue's clock
// ([RetryAfterHeader]): a host clock off by an hour neither waits an hour
// more nor redials at once. A bad URL, a handshake refused with 401 (or
// 407 by a proxy) and a certificate that fails verification are
// permanent ([ErrPermanent]): Run reports them and returns. A refused
// handshake's HTTP connection is closed at once, its body unread (a venue
// or proxy that trickles the body of its 503, or of a redirect, does not
// hold the dial), so that no net/http goroutine outlives the client.
//
// Options.Subscriptions and Options.Topics are sent on every new
// connection, topics split in messages of Options.MaxTopicsPerMessage.
// More topics than one connection may carry go to several clients
// ([SplitTopics]).
//
// Every frame the client sends on its own account — a ping, the pong
// that answers the venue's ping, a subscription, a heartbeat — shares one
// budget per connection: each begins at least 1/Options.ControlRate (on
// the Clock) after the previous one, in the order they came but for a
// pong, which goes first. A ping of the venue's that comes within a gap
// of the last pong is not answered, a departure from RFC 6455 §5.5.2
// (which wants a pong for every ping; §5.5.3 lets only pings not yet
// answered share one pong for the latest, and coder/websocket cannot send
// a pong later): the pong waits for its slot on the reader, and a peer
// pinging faster than the budget would otherwise hold every message
// behind its pings (Binance pings every 20 s: each is answered). A pong
// whose wait for its slot is cut (coder/websocket's 5 s bound on a
// control frame) is sent at once, uncounted. Otherwise, with the default
// of 4 per second no window of
// a second holds more than 4 (5 in a closed one), under Binance's limit
// of 5 incoming messages per second per connection, which counts "PING
// frames, PONG frames, JSON-formatted messages (e.g., subscription or
// unsubscription requests)" and closes a connection over it (Binance
// "WebSocket Limits"). The host's messages join the budget with
// Options.PaceWrites (a host that subscribes or unsubscribes with Write on
// such a venue); without it they are not paced and not counted. A close
// frame is not counted.
//
// Clients that share an Options.DialLimit begin their handshakes at
// least 1/rate apart, for a venue that limits new connections per IP
// (OKX: 3 per second; Binance: 300 per 5 minutes): clients started or
// redialling together would otherwise be refused together ([DialLimit]).
// Clients that share an Options.MessageLimit likewise send the frames
// they count against ControlRate at least 1/rate apart across all their
// connections, for a venue that limits messages per IP (Coinbase
// Advanced Trade: 8 per second), which a budget per connection cannot
// keep beyond a few connections ([MessageLimit]).
//
// # Closing
//
// A connection the client ends by choice — [Client.Close], the end of
// Run's context, a rotation's old connection — is closed with the close
// handshake (RFC 6455 §7.1.2): a close frame with 1000, so that the venue
// sees a normal closure rather than 1006, then a wait for the venue's
// answer of at most Options.CloseTimeout (1 s) on the Clock, or until the
// ctx given to Close ends, after which the socket is cut. Messages that
// arrive meanwhile are dropped. Close therefore waits at most CloseTimeout
// per open connection (two during a rotation) beyond the time the
// goroutines take to stop. The client's own writes (subscriptions, pings,
// heartbeats) are made without a context that ends on Close:
// coder/websocket cuts a connection whose write context ends mid-write,
// which would drop the close frame; closing the socket ends a blocked
// write as well, and a subscription write the venue does not read is cut
// once the same bound has passed after Close (Close never waits on it
// longer). coder/websocket's
// own Conn.Close may take 5 s to write the close frame and 5 s more to
// wait for the answer, on the wall clock, and CloseNow does not cut a
// handshake once begun: the client bounds it by closing the socket under
// coder/websocket (the body of the handshake's 101 response, handed over
// by a wrapper around the HTTPClient's transport). A connection lost to a
// fault (idle, pong timeout, read or write error, oversized message) is
// cut at once: waiting for a silent or broken venue only delays the
// redial. A negative CloseTimeout cuts every connection at once.
//
// # Writing
//
// [Client.Write] and [Client.WriteConn] take the host's ctx for the wait
// before a message's write begins only: once begun, the message is
// written to the end, bounded by Options.WriteTimeout, because
// coder/websocket closes a connection whose write context ends mid-write
// (one caller's deadline would take the connection from every other
// order). Their error says whether the message went out: [ErrNotSent]
// (nothing written, safe to send again) or [ErrMaybeSent] (the write
// began and failed; the connection is lost).
//
// # Rotation
//
// With Options.MaxAge set, a connection that age (counted from its dial) is
// replaced make-before-break ([schema.ConnRotating]): the new connection is
// dialled and subscribed while the old one keeps delivering; the new one's
// messages wait (up to a quarter of the frame pool, then TCP pushes back).
// The handler sees the old stream, then the new one, never interleaved, and
// — for venues that send byte-identical frames to every connection, as
// Binance market streams do — never a message twice nor a message missing:
// the client aligns the two streams on the first frame seen on both, in
// either order (the old stream ahead of the new one or behind it), delivers
// from the old connection up to that frame and from the new one after it,
// then closes the old one (a close handshake, after the new one went live:
// delivery does not wait for it). Frames are compared by bytes (a 64-bit
// hash for the old connection's latest 256 frames, where the join is
// looked for, and a set of the hashes of every frame it delivered since
// the rotation began, up to 6144 distinct ones, which says whether it
// delivered a frame the 256 no longer hold). This parses nothing, so
// it works for any venue whose frames do not differ per connection. A venue
// that stamps a per-connection id into frames that are otherwise the same
// (Kraken v1's channelID), or sends frames that are the same bytes on every
// connection but at places of their own (heartbeats), gives
// Options.AlignKey: the frames are then compared by the part it returns, and
// a frame for which it returns nil is never aligned on (it is delivered, or
// dropped with the frames before the join, as any other); so is a frame
// Options.IsData calls no data, whatever the key. A frame after the
// join that the old connection alone was sent (a notice to it, such as
// Binance's serverShutdown that starts the rotation) was delivered once and
// does not break the alignment, the last the old connection delivered too:
// the new connection's frames that are no repeat are delivered, and the
// repeats after them still skipped, for up to 256 such frames (the
// repeats are in the venue's order, so a message of both streams that is
// none of them comes after them all: the repeats left were the old
// connection's alone). A frame the new connection sends among its repeats
// that the old never delivered (one the old connection missed) is
// delivered out of its place, and the rotation reported unaligned when a
// repeat follows it. The new connection's frames from before the join (the
// first frame seen on both) that the old connection never delivered are
// not delivered: one the old connection delivered before its latest 256
// frames (a new connection that far behind the old one, as on a loaded
// machine, catching up) is the repeat it is, dropped as it comes (it
// takes no room in the queue) without a report; a
// keyed one the old connection never delivered is a subscription's
// snapshot sent to the new connection alone, which the join made stale,
// or a message the old connection missed. Either way the client says so: an [Event] with
// [ErrRotationDropped] (while the state is still Rotating) and
// Stats.RotationDropped; a key that is nil for snapshots leaves only the
// second kind. Hashing every frame outside a rotation would cost each
// frame 50 ns to 2 µs (150 B to 4 KiB, measured); instead each
// connection keeps the buffers of the latest 32 frames it delivered (no
// copy: the frame's buffer is swapped for the slot's oldest once the
// handler returned; 32 × the frame buffer, 128 KiB at the default 4 KiB,
// at most 32 × 16 KiB: a frame whose buffer grew past that is copied,
// and one over 16 KiB forgets those before it), and a rotation hashes
// them when it begins, as frames the old connection delivered: a new
// connection whose venue path lags so far behind that it repeats them
// joins the old stream there. That costs each frame 14 ns at 150 B and
// 26 ns at 4 KiB in a tight loop (BenchmarkS40wsKeep: the cache misses
// of writing each message into one of 32 buffers instead of one, load
// 7); end to end, BenchmarkRead showed no difference beyond its noise
// (cpu-ns a frame 1039 vs 881 at 150 B, 7.45 vs 7.34 µs at 4 KiB, p >
// 0.5, beside the base in one run). One that repeats a frame the old
// connection delivered before those 32 gets it counted as never
// delivered — dropped and reported as above, a loss that is none (the
// safe side: one resync, never a silent gap or a repeat); more of them
// than the new connection's queue holds fill it before any frame joins,
// and the rotation switches after RotationOverlap, unaligned, the
// repeats delivered again; the old connection delivers meanwhile (see
// Options.MaxAge).
// But for the answers: a frame from before the join that
// Options.IsData says is no data (the venue's answer to the new
// connection's own subscriptions — an acknowledgement, a refusal — or a
// notice to that connection) is the new connection's alone, so it is
// delivered, in its place among the frames the new connection delivers
// (after the old connection's last), and not counted as dropped: a
// refusal dropped there would never be seen. Likewise the old
// connection's answers after the join (to a request the host sent on it
// just before the switch): with IsData the old connection stays open
// RotationOverlap after the switch (on the Clock; less if it ends, or Run
// does), its data dropped and its answers delivered, never beside a
// handler call of the new connection; then its close handshake (which
// reads and discards whatever comes after the close frame), after which
// Options.OnReplacedEnd is told its id: a request still unanswered on it
// will not be (no loss of the live connection, no event). Without
// IsData it is closed at the switch.
// normalize.Parser.AlignKey is the key of each venue.
//
// When no frame matches within Options.RotationOverlap after the new
// connection's first message (a venue that stamps per-connection ids or
// sequence numbers into its frames, or streams that do not overlap),
// delivery switches as it would without alignment — some messages may
// then repeat or be missing around the switch — and the client says so:
// an [Event] with [ErrRotationUnaligned] and the new connection's id,
// Stats.Unaligned, and a Warn log line. The frames themselves show the
// switch by their ConnID. Repeat detection by the venue's sequence or
// trade ids, in the normalizer, covers those venues. Byte-identical
// repeats within a stream (an unchanged snapshot sent twice) can align
// early: what is then skipped is a byte-identical copy. A join on a
// message the old connection delivered more than once, apart (a, b, a: an
// unchanged ticker), is ambiguous until the new connection's next frames
// decide it: they are skipped while they repeat, in order, what the old
// connection delivered after one of the copies, and the first that
// repeats none is new (delivered; skipping ends, nothing is reported: no
// message was lost or delivered twice). A message the old connection
// alone was sent among those repeats ends the skipping too: the repeats
// after it are then delivered again, unreported. Past 256 frames the ring
// no longer holds every copy: with a join on a frame the old connection
// also delivered before the ring's 256 (or may have: the set full, the
// join's frame not in it), a frame that is no repeat the join expects but one the old connection
// delivered (the new connection at a copy the ring lost: a, u1..u300, a,
// the new stream at the first a) reports the rotation unaligned before
// it is delivered, and so does the first frame after the last repeat
// when the old connection delivered it (a, b, a, b, ... from a lost a:
// the repeats all came, the new stream short of the old one's end) —
// any frame, once the set is full (conservative: the frame may be a new
// message sent alike). A join on a frame the ring holds the first copy of
// is exact: the frames after it are looked up in nothing (a message sent
// alike before the ring's 256, an unchanged ticker, is new).
//
// The order of a switch's events among the frames: a rotation's loss
// ([ErrRotationDropped], then Connected with ReasonRotation, then
// [ErrRotationUnaligned] when the streams were not joined) is handed to
// OnEvent, and OnEvent has returned from it, before the handler is given
// the new connection's first frame; the delivery waits for that (and for
// the events queued before it), or for Run's end. A host that publishes a
// gap marker from OnEvent (package session does) so has it ahead of the
// data after the gap. OnEvent must then not wait for the handler's next
// frame. Two losses are found later, and announced the same way (waiting
// for room in the event queue and for OnEvent) before the next frame: a
// frame of the new connection, sent among its repeats, that the old
// connection never delivered ([ErrRotationUnaligned] when a repeat follows
// it: it was delivered out of its place, and is behind the report), and
// the failure of a rotation whose streams had been joined
// ([ErrRotationUnaligned] with the old connection's id: its data from the
// join to the failure are lost; it is announced before the old connection
// delivers again, and a later rotation's new connection that repeats
// them drops them, the loss reported, without a second report). An old
// connection that dies after that report (its death may come while the
// report is made: no look before it can rule that out, and the report
// cannot wait for a death that may never come) is reported lost too: a
// Disconnected naming the same connection with no frame between the two
// is the same gap.
//
// A rotation that fails keeps the old connection and is retried after a
// backoff (or the venue's Retry-After; should the old connection be lost
// before that retry, its redial keeps to the venue's Retry-After or
// floor too, and its Reconnecting event tells the rotation's error,
// with ReasonRotation, beside that wait: the loss's own was told by
// Disconnected). A connection found dead when its rotation comes due (the
// retry, MaxAge or a request ready as it died) is not rotated: it is a
// loss, redialled as any other. A new connection that dies before the switch — its
// subscriptions sent, before the streams were joined or after, or
// while the switch waits for the old connection's handler call or
// reader (the switch is made once they are out, under the lock that
// serialises delivery, and looks at the new connection there) — fails
// the rotation so, and is never announced Connected: the host hears
// Connected naming the old connection with the new one's error, after
// [ErrRotationUnaligned] naming the old connection when the streams had
// been joined (see above); with the old connection dead too, the client
// redials as after any loss, which is the old connection's (Disconnected
// naming it). A new connection that dies after the switch dies live: a
// loss like any other. An old connection lost during the
// rotation is reported when it is lost ([schema.ConnDisconnected]: a
// possible gap; once its reader stopped, so that its last frame comes
// before the event, as outside a rotation), the new one's dial and
// subscriptions (up to DialTimeout and the paced messages) going on
// meanwhile; once up, the new connection is the reconnection (Connected
// with ReasonRotation), or, failing, the client redials as after any
// loss. An old connection that dies once the streams were joined is no
// loss (it delivered up to the join, the new connection has the rest):
// neither its death nor the switch reports one; should the rotation then
// fail, the old connection's loss is reported once ([schema.ConnDisconnected],
// no [ErrRotationUnaligned] beside it). One that dies before the join is
// reported when it dies (a possible gap then), even if the new
// connection's stream later joins at its last frame: the event cannot
// wait for a join that may never come, and a host must not trade on the
// stopped stream meanwhile; the Connected event with ReasonRotation and
// no [ErrRotationUnaligned] after it then says the streams were joined.
// Unjoined, the switch is made at once, not held for a join that may
// never come (a new stream that began after the old one's last frame
// never joins it, and its data would wait RotationOverlap after a loss
// already reported): the new connection's frames that repeat the old
// connection's last ones are then delivered again, after the
// Disconnected event and the switch's [ErrRotationUnaligned] (one gap,
// two events with no frame between them). Matching them against the
// dead connection's last frames after the switch would spare the host
// those repeats only, not a report, and a match on a message sent twice
// alike would skip a new one after the host resynchronised: it is not
// done.
// One that dies while an unaligned switch (RotationOverlap ran out) is
// made, or after it, dies replaced: no Disconnected, the switch's
// [ErrRotationUnaligned] marks the possible gap.
//
// [Client.Rotate] asks for the same rotation at once, with or without
// MaxAge: for a venue that announces it will close the connection
// (Binance's serverShutdown event, OKX's notice 64008 before a service
// upgrade), so that the replacement is up before the old connection
// goes. A request names the connection it was made on; one made of a
// connection since replaced is dropped, and one made while a failed
// rotation waits for its retry does not dial before that retry (the
// backoff, or the venue's Retry-After).
//
// A private stream (orders, account reports) sends nothing before its
// login, so a rotation that waits for the new connection's first message
// cannot serve it: set Options.Prepare, which logs the new connection in
// and subscribes it before the switch. Its frames then reach the handler
// as they come, between the old connection's, each with its ConnID (no
// alignment: a report sent on both connections may be delivered twice);
// the switch follows Prepare's return. A Prepare that fails, or has not
// returned within RotationOverlap on the Clock, keeps the old connection
// and closes the new one ([*PrepareError], a failed rotation, retried
// after a backoff).
//
// # Visible state
//
// Options.OnEvent receives every state change and reported error, on a
// goroutine of its own fed by a bounded queue: the reader never waits for
// the host. [Client.Stats] gives the counters at any time without
// allocating. Options.Logger (a *slog.Logger, silent when nil) writes the
// same events: state changes at Info, faults at Warn, keyed by venue and
// conn_id, never a line per message. Connection ids count from 1 in every
// frame, event, log line and Stats; 0 (no conn_id in a log line) means no
// connection is concerned, as in the client's first connecting state and
// its closed state.
//
// Options.Subprotocols are offered in the handshake
// (Sec-WebSocket-Protocol) for a server that requires one; none of the
// venues supported does. Compression (permessage-deflate) is not asked
// for, so a server that supports it sends plain frames (npm ws and Python
// websockets do); a server that names the extension in its answer
// unasked fails the dial (RFC 6455 §9.1, coder/websocket's check: a dial
// error, redialled), and a compressed frame without it is a protocol
// error.
//
// # Handshake
//
// A redirect (3xx) is followed, to ws:// or wss://, up to 10 times or as
// the host's HTTPClient.CheckRedirect says; one from wss:// to ws:// is
// refused ([ErrInsecureRedirect], redialled no sooner than BackoffCap):
// it would send the headers, the stream and the orders in clear text. A
// redirect to another host (not the first one or a subdomain of it, as
// net/http decides for Authorization) carries only the User-Agent, Origin
// and Accept headers of Options.HTTPHeader, and so does every later hop
// of the chain, one back to the first host included (net/http's rule for
// Authorization is as sticky): the others may be the host's credentials
// (API keys, signatures), which net/http passes on. A
// "Host" in Options.HTTPHeader is the Host sent (net/http drops it from a
// request's Header); the TLS server name stays the URL's host (or the
// transport's tls.Config.ServerName). A "Sec-WebSocket-Protocol" there is
// offered as Options.Subprotocols are; a "Sec-WebSocket-Extensions" is
// refused by New; the handshake's own Connection, Upgrade,
// Sec-WebSocket-Key and Sec-WebSocket-Version are dropped (a second
// Sec-WebSocket-Key failed every dial). Header keys are matched in any case
// and sent under their canonical key (a "user-agent" went out after
// net/http's own User-Agent). Behind an
// HTTP proxy (the default HTTPClient's from HTTPS_PROXY, HTTP_PROXY and
// NO_PROXY, or the Proxy of the host's *http.Transport) a venue is reached
// through a CONNECT tunnel, a ws:// one too (RFC 6455 §4.1; net/http
// alone would send its handshake to the proxy as a plain GET, which
// proxies do not upgrade); a proxy that refuses the tunnel is a
// [*HandshakeError] with Proxy set: 407 (its credentials) is permanent,
// a Retry-After is kept to. The tunnel uses the transport's dialers
// (DialContext or Dial; DialTLSContext or DialTLS to an https:// proxy),
// ends with the dial (DialTimeout), reads the proxy's answer within
// MaxResponseHeaderBytes, skips interim 1xx answers and ignores a 200's
// Content-Length (RFC 9110 §9.3.6). A Proxy-Authorization in
// Options.HTTPHeader goes with the CONNECT, never to the venue.
//
// # TLS
//
// wss:// certificates are verified by default (a transport of the
// client's own, configured like http.DefaultTransport). A
// custom *http.Client (own roots, client certificates, proxy) and handshake
// headers can be passed; an HTTP client that skips verification is refused
// unless Options.AllowInsecureTLS says so.
package wsclient
