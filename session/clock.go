package session

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/internal/safejson"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// clock gives the venue's time: the local clock plus the offset measured
// against the venue's server time.
type clock struct {
	now       func() time.Time
	timers    wsclient.Clock // Client.Clock: bounds a measurement (restDeadline)
	timeout   time.Duration  // Config.RESTTimeout: a measurement's bound
	offset    atomic.Int64   // venue minus local, ns
	resyncing atomic.Bool    // a measurement after a refusal is under way
	// resynced is closed when the measurement under way (resyncing) ends;
	// a signed request waits for it (waitResync).
	resynced atomic.Pointer[chan struct{}]
}

// waitResync waits, within ctx, for a measurement a refusal for the
// timestamp started (Session.clockRefused): a request stamped before it
// ends is stamped with the offset the venue just refused, and a host that
// retries at once (as hosts do after a refusal) was refused again and
// again while the measurement went on. At most the measurement's bound
// (Config.RESTTimeout); nothing to wait for, it returns at once.
func (c *clock) waitResync(ctx context.Context) error {
	if !c.resyncing.Load() {
		return nil
	}
	done := c.resynced.Load()
	if done == nil {
		return nil
	}
	select {
	case <-*done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *clock) venueNow() time.Time { return c.now().Add(time.Duration(c.offset.Load())) }

// sync measures the offset against the venue's server time at
// {rest}{venue's time path} (see venueTimes): the server's time was read
// during the round trip, so the offset is known to within it. A
// measurement across a step of the local clock (an NTP correction, a
// laptop waking) is taken again, at most maxStepRetries times (see
// measure).
func (c *clock) sync(ctx context.Context, client *http.Client, venue schema.Venue, rest string) error {
	vt, ok := venueTimes[venue]
	if !ok {
		return fmt.Errorf("session: no server time for %s", venue)
	}
	for try := 0; ; try++ {
		lo, hi, stepped, err := c.measure(ctx, client, vt, rest)
		if err != nil {
			return err
		}
		if stepped && try < maxStepRetries {
			continue
		}
		// The server read its clock between t0 and t1, and its answer is
		// truncated to vt.res: the offset lies in [lo, hi]. On a busy
		// machine a round trip takes seconds, and its middle can then be
		// off the true offset by more than Binance's 1000 ms allowance
		// ahead (-1021 on every signed request until the next
		// measurement). So the offset moves only as far as the
		// measurement demands: kept while the interval holds it, else set
		// to the interval's nearest edge.
		c.offset.Store(int64(min(max(time.Duration(c.offset.Load()), lo), hi)))
		return nil
	}
}

// maxStepRetries bounds the measurements taken again after a step of the
// local clock: a clock stepped at every round trip is kept as measured.
const maxStepRetries = 2

// measure reads the venue's time once: the offset lies in [lo, hi].
// stepped reports that the local clock (Config.Now) moved during the
// round trip by more than the round trip itself, as read on the host's
// monotonic clock, which no step moves: the interval then spans the step,
// and an offset kept in it (measured before the step) is off by up to the
// step's size — every signed request stamped that far off until the next
// measurement (Binance -1021 "Timestamp for this request was 1000ms ahead
// of the server's time", WS-API "Timing security").
func (c *clock) measure(ctx context.Context, client *http.Client, vt venueTime, rest string) (lo, hi time.Duration, stepped bool, err error) {
	ctx, end := restDeadline(ctx, c.timers, c.timeout)
	defer func() { _ = end(nil) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rest+vt.path, nil)
	if err != nil {
		return 0, 0, false, err
	}
	t0, m0 := c.now(), time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, false, fmt.Errorf("session: server time: %w", end(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	t1, rtt := c.now(), time.Since(m0)
	if err = end(err); err != nil {
		return 0, 0, false, fmt.Errorf("session: server time: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, false, fmt.Errorf("session: server time: %s: %.200s", resp.Status, body)
	}
	server, err := parseServerTime(vt, body)
	if err != nil || server.Before(earliestServerTime) || server.After(latestServerTime) {
		return 0, 0, false, fmt.Errorf("session: server time: malformed answer %.200q", body)
	}
	// Wall readings (Round(0) drops a monotonic one): a local clock that
	// steps moves them, not rtt. A clock that stands still (a test's) or
	// moves with the host's is no step.
	step := (t1.Round(0).Sub(t0.Round(0)) - rtt).Abs()
	return server.Sub(t1), server.Add(vt.res).Sub(t0), step > max(rtt, time.Millisecond), nil
}

// A server time outside these is a malformed answer, not a clock: taken
// for one ({"serverTime":1} is 1970), it would stamp every signed request
// decades off, and the venue would refuse them all (-1021) until the next
// measurement. The window is wide enough for any local clock that is
// merely wrong.
var (
	earliestServerTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	latestServerTime   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// parseServerTime reads body with vt; a panic while reading it is a
// malformed answer (a *safejson.PanicError), never raised (venue input,
// goccy v0.12).
func parseServerTime(vt venueTime, body []byte) (t time.Time, err error) {
	defer safejson.Recover(&err)
	return vt.parse(body)
}

// clockRefused is told the venue's code for a refused order request.
// When the venue refused it for its timestamp (venueTime.stale: Binance
// -1021, Bybit 10002), the local clock has moved since the offset was
// measured — an NTP step, a laptop waking — and every request stamped with
// that offset would be refused the same way until the next login measured
// it again, hours later on a quiet connection. The offset is measured
// again now, in the background (one measurement at a time; Close waits for
// it). The refused request is not sent again: its caller has the
// *VenueError, and the next request waits for the measurement
// (clock.waitResync; it starts before the refusal is handed to its
// caller) and is stamped with the new offset.
func (s *Session) clockRefused(code int64) {
	vt, ok := venueTimes[s.spec.venue]
	if !ok || !slices.Contains(vt.stale, code) || !s.syncsClock() || s.dying.Err() != nil || !s.clock.resyncing.CompareAndSwap(false, true) {
		return
	}
	done := make(chan struct{})
	s.clock.resynced.Store(&done)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer close(done)
		defer s.clock.resyncing.Store(false)
		err := s.clock.sync(s.dying, s.cfg.HTTPClient, s.spec.venue, s.cfg.Endpoints.REST)
		if err != nil && s.cfg.Logger != nil && s.dying.Err() == nil {
			s.cfg.Logger.Warn("session: clock offset not measured again after a refusal for the timestamp; keeping the last one",
				"venue", string(s.spec.venue), "code", code, "err", err)
		}
	}()
}

// ClockOffset is the venue's clock minus the local one, as last measured
// (0 with Config.NoClockSync). Signed requests are stamped with the local
// clock plus it.
func (s *Session) ClockOffset() time.Duration { return time.Duration(s.clock.offset.Load()) }

// sleep waits d on Config.Client's clock (the real one by default), or
// until Close begins.
func (s *Session) sleep(d time.Duration) error { return s.cfg.Client.Clock.Sleep(s.dying, d) }

// notAfter sets *t, a time read from a Clock earlier, to now when now is
// before it: the clock stepped back (a replay's clock, a host's clock
// without Go's monotonic reading, set back). A rate kept from such times
// then waits at most its own span from now, never the step as well, and
// a token bucket refills from now (it takes nothing back for the step).
func notAfter(t *time.Time, now time.Time) {
	if now.Before(*t) {
		*t = now
	}
}
