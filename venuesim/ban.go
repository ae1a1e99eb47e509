package venuesim

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/goccy/go-json/jsontext"
)

// Bans configure Binance's escalation past 429 (Options.Bans): "Repeatedly
// violating rate limits and/or failing to back off after receiving 429s
// will result in an automated IP ban (HTTP status 418)"; "IP bans are
// tracked and scale in duration for repeat offenders, from 2 minutes to 3
// days" (spot "LIMITS", "IP Limits"; WebSocket API "Rate limits": "...
// will result in an automated IP ban and you will be disconnected.
// Requests from a banned IP address fail with status 418").
//
// A 429 an IP earns (REQUEST_WEIGHT on the WS-API or REST, FailQueries'
// refusals, a ConnectLimit refusal of a handshake) tells it when to come
// back; a 429 it earns before the retry time of an earlier one is a strike
// (it did not back off), and the Strikes-th strike is answered 418 instead:
// the IP is banned from then on for its next duration. A 429 earned after
// the latest retry time shows the IP backs off: its strikes start again
// from 0. Orders past ORDERS
// (-1015) are the account's, not the IP's, and earn no strike. A ban is
// on Options.Clock, and the request that begins it ends every WS-API
// connection of the IP. A clock stepped back neither lengthens a ban
// past its duration from now nor makes the next 429 a strike.
type Bans struct {
	// Strikes is how many 429s earned before an earlier one's retry
	// time begin a ban. Binance does not say how many; defaults to 1.
	Strikes int
	// Durations are an IP's successive bans: its first lasts
	// Durations[0], its next Durations[1], the last repeating. Binance
	// gives only the ends (2 minutes, 3 days); defaults to 2 min, 10 min,
	// 1 h, 6 h, 24 h, 72 h.
	Durations []time.Duration
}

var defaultBanDurations = []time.Duration{2 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour}

// ipBans tracks each IP's 429s and bans. A nil *ipBans bans no one.
type ipBans struct {
	strikes   int
	durations []time.Duration
	mu        sync.Mutex
	byIP      map[string]*ipRecord
}

type ipRecord struct {
	last    time.Time     // when it earned its latest 429
	retryAt time.Time     // the latest retry time a 429 gave it
	strikes int           // 429s earned before an earlier one's retry time
	bans    int           // bans so far: the next one's duration
	until   time.Time     // banned until (zero: never banned)
	length  time.Duration // the latest ban's duration
}

func newIPBans(b *Bans) *ipBans {
	if b == nil {
		return nil
	}
	ds := b.Durations
	if len(ds) == 0 {
		ds = defaultBanDurations
	}
	return &ipBans{strikes: max(b.Strikes, 1), durations: append([]time.Duration(nil), ds...), byIP: map[string]*ipRecord{}}
}

// bannedUntil reports whether ip is banned at now, and until when.
func (b *ipBans) bannedUntil(ip string, now time.Time) (time.Time, bool) {
	if b == nil {
		return time.Time{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.byIP[ip]
	if r == nil {
		return time.Time{}, false
	}
	// A clock stepped back (Options.Clock without a monotonic reading)
	// does not lengthen a ban: it never ends more than its duration
	// from now.
	if r.until.Sub(now) > r.length {
		r.until = now.Add(r.length)
	}
	if !now.Before(r.until) {
		return time.Time{}, false
	}
	return r.until, true
}

// refused records a 429 for ip at now telling it to retry at retryAt. When
// it is the strike that begins a ban, it reports the ban's end: the
// request is then answered 418 instead.
func (b *ipBans) refused(ip string, now, retryAt time.Time) (time.Time, bool) {
	if b == nil {
		return time.Time{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.byIP[ip]
	if r == nil {
		r = &ipRecord{}
		b.byIP[ip] = r
	}
	if now.Before(r.last) {
		// The clock stepped back: a retry time given before the step
		// proves nothing of this 429, and the count starts again.
		r.retryAt, r.strikes = time.Time{}, 0
	}
	r.last = now
	switch {
	case now.Before(r.retryAt):
		r.strikes++
	case !r.retryAt.IsZero():
		// It waited out the retry time: it backs off, and the strikes
		// of before no longer count ("failing to back off" is what
		// Binance bans for; how strikes decay it does not say).
		r.strikes = 0
	}
	if retryAt.After(r.retryAt) {
		r.retryAt = retryAt
	}
	if r.strikes < b.strikes {
		return time.Time{}, false
	}
	r.length = b.durations[min(r.bans, len(b.durations)-1)]
	r.until = now.Add(r.length)
	r.bans++
	r.strikes, r.retryAt = 0, time.Time{}
	return r.until, true
}

// bannedMsg is Binance's -1003 text for a banned IP ("Error codes" -1003;
// the WS-API's example: "Way too much request weight used; IP banned
// until 1659146400000. Please use WebSocket Streams for live updates to
// avoid bans.").
func bannedMsg(until time.Time) string {
	return "Way too much request weight used; IP banned until " + strconv.FormatInt(until.UnixMilli(), 10) +
		". Please use WebSocket Streams for live updates to avoid bans."
}

// writeBanned answers an HTTP request (REST, or a WebSocket handshake)
// from a banned IP: 418, a Retry-After of the whole seconds until the ban
// is over, rounded up ("LIMITS": "in the case of a 418, until the ban is
// over"), and the -1003 body.
func (v *Venue) writeBanned(w http.ResponseWriter, now, until time.Time) {
	v.banned.Add(1)
	writeLimited(w, http.StatusTeapot, until.Sub(now), -1003, bannedMsg(until))
}

// writeLimited writes a 418 or 429 with Retry-After in whole seconds
// (rounded up, at least 1) and Binance's REST error body.
func writeLimited(w http.ResponseWriter, status int, retry time.Duration, code int, msg string) {
	secs := int64((retry + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(marshal(&struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}{code, msg}))
}

// answerBanned answers a WS-API request from a banned IP as Binance's
// example does (status 418, -1003, error.data with serverTime and
// retryAfter, the ban's end), and disconnects every WS-API connection of
// the IP once its answers so far are out.
func (c *conn) answerBanned(req apiRequest, id jsontext.Value, now, until time.Time) {
	c.v.banned.Add(1)
	c.answer(req, refusedStatus(id, 418, -1003, bannedMsg(until), now.UnixMilli(), until.UnixMilli()))
	c.v.banIP(c.ip)
}

// restWeight is a REST request's weight (spot REST "Market data
// endpoints": depth by limit 1–100: 5, 101–500: 25, 501–1000: 50,
// 1001–5000: 250; exchangeInfo 20; time 1).
func restWeight(path string, limit int) int {
	switch path {
	case "/api/v3/depth":
		switch {
		case limit <= 100:
			return 5
		case limit <= 500:
			return 25
		case limit <= 1000:
			return 50
		}
		return 250
	case "/api/v3/exchangeInfo":
		return 20
	}
	return 1
}

// admitREST counts a REST request's weight in the IP-wide minute the
// WS-API counts in, and answers it when it may not go on: 418 from a
// banned IP; with Options.EnforceRateLimits, 429 past REQUEST_WEIGHT
// (-1003, Retry-After until the next minute), or 418 when that 429 is the
// strike that begins a ban. Every answer carries X-MBX-USED-WEIGHT-1M
// ("LIMITS": "Every request will contain X-MBX-USED-WEIGHT-
// (intervalNum)(intervalLetter) in the response headers").
func (v *Venue) admitREST(w http.ResponseWriter, r *http.Request, weight int) bool {
	ip, now := clientIP(r), v.now()
	if until, ok := v.bans.bannedUntil(ip, now); ok {
		v.writeBanned(w, now, until)
		return false
	}
	ms := now.UnixMilli()
	count := v.rates.spend(ms, weight)
	w.Header().Set("X-MBX-USED-WEIGHT-1M", strconv.FormatInt(count, 10))
	if !v.opts.EnforceRateLimits || count <= weightLimit {
		return true
	}
	retry := time.UnixMilli(ms - ms%minuteMs + minuteMs)
	if until, ok := v.bans.refused(ip, now, retry); ok {
		v.banIP(ip)
		v.writeBanned(w, now, until)
		return false
	}
	writeLimited(w, http.StatusTooManyRequests, retry.Sub(now), -1003, weightMsg)
	return false
}

// banIP ends every WS-API connection of ip, a ban having begun ("you will
// be disconnected").
func (v *Venue) banIP(ip string) {
	for _, c := range v.apiConns() {
		if c.ip == ip {
			c.closeAfterQueued(websocket.StatusPolicyViolation, "IP banned")
		}
	}
}
