package session

import (
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// The backoff of a market request the venue refused (marketRetry): a
// refusal that may pass (a rate limit, a busy venue) is asked again after
// passingBase, doubling up to passingCap; any other (an unknown symbol or
// channel, a malformed request, a limit of subscriptions: the same request
// is refused again) after lastingBase, doubling up to lastingCap.
const (
	passingBase = time.Second
	passingCap  = time.Minute
	lastingBase = time.Minute
	lastingCap  = 15 * time.Minute
)

// passingCodes are each venue's documented codes of a refusal that passes
// (OKX v5 "Error Code": 60014 "Requests too frequent", 50011 "Rate limit
// reached", 50001 "Service temporarily unavailable", 50013 "Systems are
// busy", 50026 "System error. Try again later" — not 63999, "Login failed
// due to internal error", a login's, which no market connection sends;
// Bybit v5 "Error Codes": 10006 "Too
// many visits", 10018 "Exceeded the IP rate limit"; Binance "Error codes":
// -1003 TOO_MANY_REQUESTS, -1008 SERVER_BUSY). A refusal is also one that
// passes when its message says so (passingWords): Binance's stream
// answers, Kraken v2's and Coinbase's refusals carry a message only.
var passingCodes = map[schema.Venue][]int64{
	schema.VenueOKX:     {60014, 50011, 50001, 50013, 50026},
	schema.VenueBybit:   {10006, 10018},
	schema.VenueBinance: {-1003, -1008},
}

// passingWords, lower case, in a refusal's message: a rate limit or a
// venue busy for now (Binance "Too many requests", Kraken "EGeneral:Too
// many requests" and "EService:Busy", Coinbase "rate limit exceeded").
var passingWords = []string{"too many", "too frequent", "rate limit", "try again", "busy", "temporarily", "throttled"}

// refusalPasses reports whether venue's refusal c may pass if asked again.
func refusalPasses(venue schema.Venue, c *schema.Control) bool {
	if c.Code != 0 && slices.Contains(passingCodes[venue], c.Code) {
		return true
	}
	msg := strings.ToLower(c.Reason)
	return slices.ContainsFunc(passingWords, func(w string) bool { return strings.Contains(msg, w) })
}

// The request ids of a market connection's requests where the venue
// echoes one in its answer (Bybit's and Kraken's req_id, OKX's id on
// unsubscribes; the session's Binance and Coinbase market requests, and
// OKX's subscriptions, carry none): an answer says which request it
// answers. An unsubscribe (the resubscriber's, ahead of
// the subscription that brings a broken book a new snapshot) the venue
// refuses — Bybit "error:handler not found", Kraken "Subscription Not
// Found": nothing to unsubscribe — leaves nothing the connection streams
// missing: it is published, but neither a market refusal (marketRetry,
// WaitConnected) nor, acknowledged, an acceptance of the subscriptions.
const (
	subReqID   = 1
	unsubReqID = 2
)

// unsubscribeAnswer reports whether ev answers a market unsubscribe (an
// event without a Control section answers none: ControlOrZero).
func unsubscribeAnswer(ev *schema.CanonicalEvent) bool {
	return ev.ControlOrZero().RequestID == unsubReqID && (ev.Venue == schema.VenueBybit || ev.Venue == schema.VenueKraken || ev.Venue == schema.VenueOKX)
}

// backoff is the wait before asking again after the n-th refusal in a row
// (n ≥ 1): base doubling up to most.
func backoff(n int, base, most time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	return min(d, most)
}

// marketRetry asks the venue again for what it refused on a market
// connection (shard): DESIGN.md contract 5, no silent stalls. A refused
// subscription's data never comes, on a connection that stays up (OKX
// 60014 "Requests too frequent" after a reconnect): nothing else would
// notice. The venue's answer names no request in a form common to the
// venues (OKX's 60014 names none), so the shard's connection is rotated
// (wsclient's Rotate, make-before-break): the new connection subscribes
// every topic again while the old one goes on delivering the topics it
// has, so nothing the venue accepted stops.
//
// The rotation waits a backoff on the session's clock (Client.Clock),
// counted over the refusals in a row: passingBase doubling to passingCap
// for a refusal that passes (refusalPasses), lastingBase doubling to
// lastingCap for any other, which the venue will refuse again (an unknown
// symbol), each plus up to a quarter of itself at random
// (Config.Client.Rand, as wsclient's redials), so that shards refused
// at once (a venue refusing every connection after an outage) do not
// rotate together: OKX takes 3 connection requests a second per IP (v5
// "WebSocket → Connect", connection limit). It is asked again at most
// every lastingCap and a quarter, each refusal
// published (schema.ControlVenueError), counted (ConnStats.Refusals) and
// returned by WaitConnected while the session is not ready. The count
// starts again once the venue accepted (a subscription acknowledged) on
// a connection after the last one refused and never refused since. A
// refusal while a retry is armed waits for it; an acknowledgement on a
// connection after the refused one (a reconnect that subscribed again)
// disarms it, one that fires when a connection after the refused one is
// live (the refused one lost meanwhile, that one's answers not read yet)
// is dropped, and a refusal read on a connection older than one
// acknowledged (a rotation's replaced connection) arms none.
type marketRetry struct {
	clock  wsclient.Clock
	rnd    func(n int64) int64 // uniform in [0, n): the backoff's jitter; nil none
	rotate func()              // the shard's rotation (bookWatch.rotate)
	live   func() uint64       // the shard's live connection (wsclient's ConnID)
	venue  schema.Venue
	log    *slog.Logger
	shard  int

	mu      sync.Mutex
	timer   wsclient.Timer // armed, or nil
	wait    time.Duration  // its backoff
	gen     uint64         // the armed timer's: a stale one's callback does nothing
	refused uint64         // the latest connection (ConnID) that read a refusal
	okConn  uint64         // the latest connection that read an acknowledgement
	clean   uint64         // the latest connection acknowledged before any refusal on it
	passing int            // refusals that pass, in a row
	lasting int            // other refusals, in a row
	closed  bool

	refusals, retries atomic.Uint64
}

func (s *Session) newMarketRetry(shard int, rotate func(), live func() uint64) *marketRetry {
	rnd := s.cfg.Client.Rand
	if rnd == nil {
		rnd = rand.Int64N
	}
	return &marketRetry{clock: s.cfg.Client.Clock, rnd: rnd, rotate: rotate, live: live, venue: s.spec.venue, log: s.cfg.Logger, shard: shard}
}

// refuse counts the venue's refusal c, read on connection conn, and arms
// the retry unless one is armed.
func (r *marketRetry) refuse(conn uint64, c *schema.Control) {
	r.refusals.Add(1)
	passes := refusalPasses(r.venue, c)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || conn < r.okConn {
		// A replaced connection's refusal, read after a later connection's
		// subscription was taken: the later one subscribed every topic
		// again (accept's case), nothing to ask for.
		return
	}
	if r.clean != 0 && r.clean < conn && r.refused < r.clean {
		// An earlier connection had what this one asks for accepted and
		// nothing refused: the same subscriptions, so the venue's state
		// changed (a limit after a reconnect: Binance answers a SUBSCRIBE
		// only "Invalid request", code 2, whatever the cause). Asked again
		// as a refusal that passes; refused again, it is one that lasts.
		passes = true
	}
	if r.okConn > r.refused && r.okConn != conn { // accepted since the last refusal
		r.passing, r.lasting = 0, 0
	}
	r.refused = max(r.refused, conn)
	if r.timer != nil {
		return
	}
	var d time.Duration
	if passes {
		r.passing++
		d = backoff(r.passing, passingBase, passingCap)
	} else {
		r.lasting++
		d = backoff(r.lasting, lastingBase, lastingCap)
	}
	r.arm(d)
	if r.log != nil {
		r.log.Warn("session: the venue refused a market request; the connection subscribes again after a backoff",
			"venue", string(r.venue), "shard", r.shard, "code", c.Code, "reason", c.Reason, "passes", passes, "backoff", d)
	}
}

// accept records the venue's acknowledgement of a request on connection
// conn; one after the refused connection disarms the retry.
func (r *marketRetry) accept(conn uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.okConn = max(r.okConn, conn)
	if conn > r.refused {
		r.clean = max(r.clean, conn)
	}
	if conn > r.refused && r.timer != nil {
		r.timer.Stop()
		r.timer = nil
		r.gen++
	}
}

// arm arms the retry d, and up to a quarter of d at random, from now
// (caller holds r.mu).
func (r *marketRetry) arm(d time.Duration) {
	r.gen++
	gen := r.gen
	r.wait = d
	if r.rnd != nil {
		d += time.Duration(r.rnd(int64(d/4) + 1))
	}
	r.timer = r.clock.AfterFunc(d, func() { r.fire(gen) })
}

// fire rotates the shard's connection. A refusal read by a rotation's new
// connection before the switch waits another backoff: a rotation asked
// meanwhile would name the old connection, and wsclient drops a request
// whose connection is replaced (Client.Rotate). A refusal of a connection
// gone since (a later one live) is dropped: the retry was that
// connection's.
func (r *marketRetry) fire(gen uint64) {
	r.mu.Lock()
	if r.closed || gen != r.gen {
		r.mu.Unlock()
		return
	}
	live, refused := r.live(), r.refused
	if live < refused {
		r.arm(r.wait)
		r.mu.Unlock()
		return
	}
	r.timer = nil
	r.mu.Unlock()
	if live != refused {
		// The refused connection is gone (lost and redialled, or replaced
		// by another rotation): the live one subscribed every topic
		// again as it connected, and its own answers decide — accept, or
		// refuse arming its own retry. Rotated, it went for the gone
		// connection's refusal.
		return
	}
	r.retries.Add(1)
	r.rotate()
}

// stop disarms the retry for good (Close).
func (r *marketRetry) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}
