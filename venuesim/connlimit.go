package venuesim

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// connLimiter admits at most limit admissions per sliding window and
// client IP: market-stream or WS-API connections (Binance "WebSocket
// Limits": "There is a limit of 300 connections per attempt every 5
// minutes per IP"), or OKX's REST book requests (40 per 2 s). Only
// admissions are counted, so a refusal's Retry-After is exact: the time
// until the oldest admission leaves the window. Limit 0 or less: no
// limit.
type connLimiter struct {
	limit  int
	window time.Duration
	mu     sync.Mutex
	byIP   map[string][]time.Time // admission times within the window, oldest first
}

// admit counts a connection from ip at now, or refuses it and says how
// long until one would be admitted.
func (l *connLimiter) admit(ip string, now time.Time) (ok bool, retry time.Duration) {
	if l.limit <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byIP == nil {
		l.byIP = map[string][]time.Time{}
	}
	times := l.byIP[ip]
	// A clock stepped back (Options.Clock without a monotonic reading)
	// leaves admissions in its future: each counts from now instead, so
	// none is held for longer than the window.
	for i := len(times) - 1; i >= 0 && times[i].After(now); i-- {
		times[i] = now
	}
	keep := 0
	for keep < len(times) && now.Sub(times[keep]) >= l.window {
		keep++
	}
	times = times[keep:]
	if len(times) >= l.limit {
		l.byIP[ip] = times
		return false, l.window - now.Sub(times[0])
	}
	if len(times) == 0 {
		times = make([]time.Time, 0, min(l.limit, 64))
	}
	l.byIP[ip] = append(times, now)
	return true, 0
}

// release gives back the slot admit counted for ip at at: the handshake
// it admitted failed to upgrade and is no connection. The newest
// admission not after at is taken back (admit may have moved the one of
// at earlier, to a clock stepped back).
func (l *connLimiter) release(ip string, at time.Time) {
	if l.limit <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	times := l.byIP[ip]
	for i := len(times) - 1; i >= 0; i-- {
		if !times[i].After(at) {
			l.byIP[ip] = append(times[:i], times[i+1:]...)
			return
		}
	}
}

// refuse answers a handshake over the limit: HTTP 429 with Retry-After in
// whole seconds, rounded up, and a body in the shape of Binance's REST
// errors, as Binance's limits answer ("LIMITS": a 429 "when a request
// rate limit is violated", "A Retry-After header is sent with a 418 or
// 429 responses"; how the streams refuse a connection past the limit is
// not documented).
func (l *connLimiter) refuse(w http.ResponseWriter, retry time.Duration) {
	writeLimited(w, http.StatusTooManyRequests, retry, -1003,
		"Too many new connections; current limit is "+strconv.Itoa(l.limit)+" connections per "+l.window.String()+".")
}

// admitHandshake admits a WebSocket handshake from ip at now, or answers
// it: 418 from a banned IP (Options.Bans; how Binance refuses a banned
// IP's handshake is not documented: as its REST answers), 429 past the
// connection limit l, or 418 when that 429 is the strike that begins a
// ban.
func (v *Venue) admitHandshake(w http.ResponseWriter, l *connLimiter, ip string, now time.Time) bool {
	if until, banned := v.bans.bannedUntil(ip, now); banned {
		v.writeBanned(w, now, until)
		return false
	}
	ok, retry := l.admit(ip, now)
	if ok {
		return true
	}
	v.connRefused.Add(1)
	if until, banned := v.bans.refused(ip, now, now.Add(retry)); banned {
		v.banIP(ip)
		v.writeBanned(w, now, until)
		return false
	}
	l.refuse(w, retry)
	return false
}

// clientIP is the request's remote address without its port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
