package venuesim_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Binance's escalation past 429, on the venue's clock (spot "LIMITS", "IP
// Limits": "Repeatedly violating rate limits and/or failing to back off
// after receiving 429s will result in an automated IP ban (HTTP status
// 418)", "IP bans are tracked and scale in duration for repeat offenders,
// from 2 minutes to 3 days", "A Retry-After header is sent with a 418 or
// 429 responses and will give the number of seconds required to wait [...]
// in the case of a 418, until the ban is over"; WebSocket API "Rate
// limits": "... will result in an automated IP ban and you will be
// disconnected. Requests from a banned IP address fail with status 418.
// retryAfter field indicates the timestamp when the ban will be lifted").

// s30API is a WS-API connection that sends openOrders.status of every
// symbol (weight 80: 75 fill the minute's 6000) and reads its answer.
type s30API struct {
	t   *testing.T
	ctx context.Context
	c   *websocket.Conn
	n   int
}

func s30DialAPI(t *testing.T, v *venuesim.Venue) *s30API {
	t.Helper()
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.APIURL(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return &s30API{t: t, ctx: ctx, c: c}
}

func (a *s30API) heavy() limitAnswer {
	a.t.Helper()
	a.n++
	require.NoError(a.t, a.c.Write(a.ctx, websocket.MessageText,
		fmt.Appendf(nil, `{"id":%d,"method":"openOrders.status","params":{"timestamp":1}}`, a.n)))
	_, msg, err := a.c.Read(a.ctx)
	require.NoError(a.t, err)
	var r limitAnswer
	require.NoError(a.t, json.Unmarshal(msg, &r), "%s", msg)
	return r
}

// fill sends heavy requests until one is refused, and returns it.
func (a *s30API) fill() limitAnswer {
	a.t.Helper()
	for range 200 {
		if r := a.heavy(); r.Status != 200 {
			return r
		}
	}
	require.FailNow(a.t, "never refused")
	return limitAnswer{}
}

// s30Dial dials url and returns the handshake's HTTP status (101 when it
// upgraded) and Retry-After.
func s30Dial(t *testing.T, url string) (status int, retryAfter string) {
	t.Helper()
	c, resp, err := websocket.Dial(s29Ctx(t), url, nil)
	if err == nil {
		_ = c.CloseNow()
		return http.StatusSwitchingProtocols, ""
	}
	require.NotNil(t, resp, "%v", err)
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

type s30RESTError struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

func s30Get(t *testing.T, url string) (resp *http.Response, body s30RESTError) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusOK {
		require.NoError(t, json.Unmarshal(b, &body), "%s", b)
	}
	return resp, body
}

func s30Venue(t *testing.T, clock *s29Clock, o venuesim.Options) *venuesim.Venue {
	t.Helper()
	o.Rate, o.PingInterval, o.Clock, o.EnforceRateLimits = 1, -1, clock, true
	v := venuesim.Start(&o)
	t.Cleanup(v.Close)
	return v
}

func s30BannedMsg(until int64) string {
	return "Way too much request weight used; IP banned until " + strconv.FormatInt(until, 10) +
		". Please use WebSocket Streams for live updates to avoid bans."
}

// A WS-API client that sends again before its 429's retryAfter is banned:
// that request is answered 418 with -1003 and error.data.retryAfter the
// ban's end, and the connection is closed. Until the end every handshake
// (WS-API and streams) and REST request of the IP gets 418 with a
// Retry-After of the ban's seconds; then all goes again, and the next ban
// lasts the next duration.
func TestS30BanWSAPI(t *testing.T) {
	clock := newS29Clock(s29Epoch)
	v := s30Venue(t, clock, venuesim.Options{Bans: &venuesim.Bans{Durations: []time.Duration{2 * time.Minute, 72 * time.Hour}}})
	a := s30DialAPI(t, v)
	r := a.fill()
	require.Equal(t, 429, r.Status)
	assert.Equal(t, -1003, r.Error.Code)
	now := clock.Now().UnixMilli()
	r = a.heavy() // not backing off
	require.Equal(t, 418, r.Status, "%+v", r)
	assert.Equal(t, -1003, r.Error.Code)
	until := now + (2 * time.Minute).Milliseconds()
	assert.Equal(t, s30BannedMsg(until), r.Error.Msg)
	assert.Equal(t, now, r.Error.Data.ServerTime)
	assert.Equal(t, until, r.Error.Data.RetryAfter)
	_, _, err := a.c.Read(a.ctx)
	assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err), "disconnected: %v", err)
	assert.EqualValues(t, 1, v.Stats().Banned)

	for _, url := range []string{v.APIURL(), v.StreamURL("btcusdt@trade")} {
		status, retry := s30Dial(t, url)
		assert.Equal(t, http.StatusTeapot, status, url)
		assert.Equal(t, "120", retry, url)
	}
	resp, body := s30Get(t, v.RESTURL()+"/api/v3/time")
	assert.Equal(t, http.StatusTeapot, resp.StatusCode)
	assert.Equal(t, "120", resp.Header.Get("Retry-After"))
	assert.Equal(t, -1003, body.Code)
	assert.Equal(t, s30BannedMsg(until), body.Msg)

	clock.Advance(time.Minute)
	status, retry := s30Dial(t, v.APIURL())
	assert.Equal(t, http.StatusTeapot, status)
	assert.Equal(t, "60", retry, "the seconds left")

	clock.Advance(time.Minute) // the ban is over
	status, _ = s30Dial(t, v.StreamURL("btcusdt@trade"))
	assert.Equal(t, http.StatusSwitchingProtocols, status)
	resp, _ = s30Get(t, v.RESTURL()+"/api/v3/time")
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// A repeat offender: the next ban is the next duration.
	a = s30DialAPI(t, v)
	require.Equal(t, 429, a.fill().Status)
	r = a.heavy()
	require.Equal(t, 418, r.Status)
	assert.Equal(t, clock.Now().Add(72*time.Hour).UnixMilli(), r.Error.Data.RetryAfter)
	clock.Advance(72 * time.Hour)
	status, _ = s30Dial(t, v.APIURL())
	assert.Equal(t, http.StatusSwitchingProtocols, status)
}

// A client that backs off is never banned: a request sent at the 429's
// retryAfter is served, and a 429 after it is a 429 again. Without
// Options.Bans, early requests get 429 after 429, never a ban.
func TestS30NoBanForBackingOff(t *testing.T) {
	t.Run("backs off", func(t *testing.T) {
		clock := newS29Clock(s29Epoch)
		v := s30Venue(t, clock, venuesim.Options{Bans: &venuesim.Bans{}})
		a := s30DialAPI(t, v)
		r := a.fill()
		require.Equal(t, 429, r.Status)
		clock.Advance(time.UnixMilli(r.Error.Data.RetryAfter).Sub(clock.Now()))
		assert.Equal(t, 200, a.heavy().Status)
		assert.Equal(t, 429, a.fill().Status)
		assert.Zero(t, v.Stats().Banned)
	})
	t.Run("bans off", func(t *testing.T) {
		v := s30Venue(t, newS29Clock(s29Epoch), venuesim.Options{})
		a := s30DialAPI(t, v)
		require.Equal(t, 429, a.fill().Status)
		for range 5 {
			assert.Equal(t, 429, a.heavy().Status)
		}
	})
}

// REST requests weigh as documented (depth with limit 5000: 250) in the
// IP's minute, every answer carries X-MBX-USED-WEIGHT-1M; past 6000 a
// request gets 429 with Retry-After until the next minute, and one more
// before it 418 with Retry-After the ban's seconds (default: 2 minutes).
func TestS30BanREST(t *testing.T) {
	clock := newS29Clock(s29Epoch)
	v := s30Venue(t, clock, venuesim.Options{Bans: &venuesim.Bans{}})
	url := v.RESTURL() + "/api/v3/depth?symbol=BTCUSDT&limit=5000"
	var resp *http.Response
	var body s30RESTError
	for i := 1; i <= 25; i++ {
		resp, body = s30Get(t, url)
		if i < 25 {
			require.Equal(t, http.StatusOK, resp.StatusCode, "request %d", i)
			require.Equal(t, strconv.Itoa(250*i), resp.Header.Get("X-MBX-USED-WEIGHT-1M"))
		}
	}
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, -1003, body.Code)
	assert.Equal(t, "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.", body.Msg)
	assert.Equal(t, "53", resp.Header.Get("Retry-After"), "to the next minute from 05:06:07")

	resp, body = s30Get(t, v.RESTURL()+"/api/v3/time")
	require.Equal(t, http.StatusTeapot, resp.StatusCode)
	assert.Equal(t, "120", resp.Header.Get("Retry-After"))
	assert.Equal(t, s30BannedMsg(clock.Now().Add(2*time.Minute).UnixMilli()), body.Msg)
	status, _ := s30Dial(t, v.APIURL())
	assert.Equal(t, http.StatusTeapot, status, "the ban is the IP's")
}

// Handshakes refused for ConnectLimit earn 429s as requests do: a client
// that dials again before the Retry-After is banned (418), on the streams
// and the WS-API both, and the WS-API connections it holds are cut.
func TestS30BanHandshakes(t *testing.T) {
	clock := newS29Clock(s29Epoch)
	v := s30Venue(t, clock, venuesim.Options{ConnectLimit: 1, Bans: &venuesim.Bans{}})
	held := s30DialAPI(t, v)
	status, _ := s30Dial(t, v.StreamURL("btcusdt@trade"))
	require.Equal(t, http.StatusSwitchingProtocols, status)
	status, retry := s30Dial(t, v.StreamURL("btcusdt@trade"))
	require.Equal(t, http.StatusTooManyRequests, status)
	assert.Equal(t, "300", retry)
	status, retry = s30Dial(t, v.StreamURL("btcusdt@trade"))
	require.Equal(t, http.StatusTeapot, status)
	assert.Equal(t, "120", retry)
	status, _ = s30Dial(t, v.APIURL())
	assert.Equal(t, http.StatusTeapot, status)
	_, _, err := held.c.Read(held.ctx)
	assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err), "%v", err)
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}
