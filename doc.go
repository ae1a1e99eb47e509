// Package meltica is the root of an embeddable Go SDK for trading bots. It
// reads venue WebSocket streams, turns every message into one canonical
// schema with exact decimals, and fans the events out to the host's
// consumers with bounded memory, no allocation from the socket to the
// dispatcher (the subscribers' copies of an event share one allocation: up
// to 697 copies of a trade or quote, 344 of an execution report, 414 of a
// book diff of up to 14 levels; see package dispatch), and nothing lost that
// must not be. The host composes the packages itself;
// Meltica starts no goroutine the host did not ask for and leaves none
// running after Close.
//
// # The life of one event
//
//		venue ──WebSocket──▶ wsclient ──*schema.WsFrame──▶ normalize ──*schema.CanonicalEvent──▶ dispatch ──clone──▶ subscribers
//
//	 1. A wsclient connection's single reader goroutine takes one
//	    *schema.WsFrame from its pool.Pool when the connection starts, reads
//	    each message into the frame's reused buffer, stamps the receive time
//	    (one clock read) and calls the host's frame handler. The reader owns
//	    the frame: it reuses it for the next message once the handler returns
//	    and Puts it back when the connection ends, so the handler must not
//	    keep the frame or any slice of its Data.
//	 2. The handler is usually a venue parser from normalize. It splits the
//	    venue's envelope into *schema.ProviderRaw views that alias the frame
//	    (no copy), decodes each message into a pooled *schema.CanonicalEvent
//	    — prices as schema.Decimal, ids as schema.ID, symbols as interned
//	    strings, so nothing points into the frame afterwards — and hands each
//	    event to a Sink. From that call on, the sink owns the event, whatever
//	    it returns.
//	 3. The sink is normally a dispatch Dispatcher. Publish finds the
//	    subscribers whose filters match (precomputed, not scanned), gives each
//	    its own heap copy on the lane of the event's class — critical,
//	    coalescing or ordered — and Puts the pooled original back at once, on
//	    every path. The copies of one publish come from one allocation; each
//	    is its subscriber's alone.
//	 4. A subscriber owns its clones: they are ordinary heap values, reclaimed
//	    by the garbage collector, and a pool refuses them (Put of a clone
//	    panics).
//
// Package session composes these steps for one venue (connections, parser,
// books invalidated on loss, dispatcher, orders); a host may compose them
// by hand instead.
//
// Orders go the other way: the host fills a pooled *schema.OrderRequest,
// a venue encoder in normalize writes it through the connection, and the
// venue's execution reports come back as events on the critical lane, which
// never drops.
//
// # Ownership rules
//
// Every pooled object embeds a pool.Header: the pool checks that each Put
// returns an object it handed out and that was not returned already, and
// panics naming the pool and the type otherwise. pool.Pool.Shutdown (or
// schema.Pools.Shutdown for all six pools) reports every object that was
// never returned, and where it was taken when stack capture is on.
package meltica
