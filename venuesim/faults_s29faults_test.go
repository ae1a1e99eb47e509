package venuesim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// s29Endpoint is one way a client reaches the venue's market streams.
type s29Endpoint struct {
	name string
	dial func(t *testing.T, v *venuesim.Venue) *websocket.Conn
}

// The depth stream is @depth@100ms: the faults, not the cadence, are the
// subject, and @depth's 1000 ms (a second of waiting for the first diff
// in each of the 24 cases, two for the gap's) made the test 33 s of 163
// in the package's race run (s38sim).
var s29Endpoints = []s29Endpoint{
	{"raw", func(t *testing.T, v *venuesim.Venue) *websocket.Conn {
		return s29Dial(t, v.StreamURL("btcusdt@depth@100ms"))
	}},
	{"combined", func(t *testing.T, v *venuesim.Venue) *websocket.Conn {
		return s29Dial(t, v.StreamURL("btcusdt@depth@100ms", "btcusdt@trade"))
	}},
	{"subscribed", func(t *testing.T, v *venuesim.Venue) *websocket.Conn {
		c := s29Dial(t, v.StreamURL())
		write(t, c, `{"method":"SUBSCRIBE","params":["btcusdt@depth@100ms"],"id":1}`)
		require.JSONEq(t, `{"result":null,"id":1}`, string(read(t, c)))
		return c
	}},
}

// s29Dial dials with a read limit above the oversized fault's frame.
func s29Dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(s29Ctx(t), url, nil)
	require.NoError(t, err)
	c.SetReadLimit(4 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// s29Payload is a market message's event, unwrapped from the combined
// stream's {"stream","data"}.
type s29Payload struct {
	E     json.RawMessage `json:"e"`
	Time  int64           `json:"E"`
	First uint64          `json:"U"`
	Last  uint64          `json:"u"`
}

func s29Decode(msg []byte) (p s29Payload, ok bool) {
	var w struct {
		Stream string          `json:"stream"`
		Data   json.RawMessage `json:"data"`
	}
	if json.Unmarshal(msg, &w) == nil && w.Stream != "" {
		msg = w.Data
	}
	return p, json.Unmarshal(msg, &p) == nil
}

func (p s29Payload) event() string { return strings.Trim(string(p.E), `"`) }

// Every fault doc.go and Fault's docs promise, on every way of reaching
// the market streams, with a WS-API connection open beside it: the fault
// does what its doc says there, Inject reports the market connection
// reached, and the WS-API connection is left alone.
func TestS29EveryFaultOnEveryEndpoint(t *testing.T) {
	for _, ep := range s29Endpoints {
		for _, f := range venuesim.Faults() {
			t.Run(ep.name+"/"+f.String(), func(t *testing.T) {
				v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 500, OversizedBytes: 1 << 20, PingInterval: -1, IncomingLimit: -1})
				defer v.Close()
				ctx := s29Ctx(t)
				c := ep.dial(t, v)
				api := s29Dial(t, v.APIURL())
				// Data flows, and the depth diffs chain.
				var lastU uint64
				for lastU == 0 {
					if p, ok := s29Decode(read(t, c)); ok && p.event() == "depthUpdate" {
						lastU = p.Last
					}
				}
				require.Equal(t, 1, v.Inject(f), "Inject reaches the one market connection")
				check := s29FaultChecks[f]
				require.NotNil(t, check, "no check for %v", f)
				check(t, ctx, v, c, lastU)
				// The WS-API connection is left alone.
				write(t, api, `{"id":7,"method":"ping"}`)
				assert.Contains(t, string(read(t, api)), `"id":7,"status":200`)
			})
		}
	}
}

type s29Check func(t *testing.T, ctx context.Context, v *venuesim.Venue, c *websocket.Conn, lastU uint64)

var s29FaultChecks = map[venuesim.Fault]s29Check{
	venuesim.FaultClose: func(t *testing.T, _ context.Context, _ *venuesim.Venue, c *websocket.Conn, _ uint64) {
		err := drain(c)
		assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err), "a normal close frame: %v", err)
	},
	venuesim.FaultReset: func(t *testing.T, _ context.Context, _ *venuesim.Venue, c *websocket.Conn, _ uint64) {
		err := drain(c)
		require.Error(t, err)
		assert.Equal(t, websocket.StatusCode(-1), websocket.CloseStatus(err), "no close frame: %v", err)
	},
	venuesim.FaultStall: func(t *testing.T, ctx context.Context, v *venuesim.Venue, c *websocket.Conn, _ uint64) {
		s29Stalled(t, v, c)
		go func() { _ = drain(c) }() // reads what was queued and answers pings
		require.NoError(t, c.Ping(ctx), "a stalled connection answers pings")
		s29NewIsHealthy(t, v)
	},
	venuesim.FaultNoPong: func(t *testing.T, ctx context.Context, v *venuesim.Venue, c *websocket.Conn, _ uint64) {
		s29Stalled(t, v, c)
		go func() { _ = drain(c) }()
		// A bound on a negative: a pong later than it would pass wrongly,
		// never fail wrongly.
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, c.Ping(pctx), context.DeadlineExceeded, "a frozen connection never answers")
		s29NewIsHealthy(t, v)
	},
	venuesim.FaultGarbage: func(t *testing.T, ctx context.Context, _ *venuesim.Venue, c *websocket.Conn, _ uint64) {
		var binary, junk, good bool
		for !binary || !junk || !good {
			typ, msg, err := c.Read(ctx)
			require.NoError(t, err)
			switch {
			case typ == websocket.MessageBinary:
				binary = true
			case !json.Valid(msg):
				junk = true
			case junk:
				good = true
			}
		}
	},
	venuesim.FaultOversized: func(t *testing.T, ctx context.Context, _ *venuesim.Venue, c *websocket.Conn, _ uint64) {
		for {
			_, msg, err := c.Read(ctx)
			require.NoError(t, err)
			if len(msg) > 64<<10 {
				assert.Len(t, msg, 1<<20, "one frame of OversizedBytes")
				assert.True(t, json.Valid(msg), "a valid JSON text")
				break
			}
		}
		_, _, err := c.Read(ctx)
		assert.NoError(t, err, "the stream goes on after the big frame")
	},
	venuesim.FaultDepthGap: func(t *testing.T, ctx context.Context, _ *venuesim.Venue, c *websocket.Conn, lastU uint64) {
		for i := 0; ; i++ {
			require.Less(t, i, 20000, "no gap")
			p, ok := s29Decode(read(t, c))
			if !ok || p.event() != "depthUpdate" {
				continue
			}
			if p.First != lastU+1 {
				assert.Greater(t, p.First, lastU+1, "update ids skipped, not repeated")
				return
			}
			lastU = p.Last
		}
	},
	venuesim.FaultServerShutdown: func(t *testing.T, ctx context.Context, _ *venuesim.Venue, c *websocket.Conn, _ uint64) {
		before := time.Now().UnixMilli()
		for i := 0; ; i++ {
			require.Less(t, i, 20000, "no serverShutdown")
			p, ok := s29Decode(read(t, c))
			if ok && p.event() == "serverShutdown" {
				assert.GreaterOrEqual(t, p.Time, before-1000, "E is the venue's time, ms")
				break
			}
		}
		p, ok := s29Decode(read(t, c))
		assert.True(t, ok && p.event() != "", "the connection stays open, data flows on")
	},
}

// s29Stalled checks that the venue queues nothing more to c while it
// makes market data (Stats.Sent counts what it queues; c is its only
// market connection).
func s29Stalled(t *testing.T, v *venuesim.Venue, _ *websocket.Conn) {
	t.Helper()
	st := v.Stats()
	require.Eventually(t, func() bool { return v.Stats().Messages > st.Messages+50 }, time.Minute, time.Millisecond)
	assert.Equal(t, st.Sent, v.Stats().Sent, "market data queued to a stalled connection")
}

// s29NewIsHealthy: a connection opened after the fault gets data.
func s29NewIsHealthy(t *testing.T, v *venuesim.Venue) {
	t.Helper()
	c := s29Dial(t, v.StreamURL("btcusdt@trade"))
	p, ok := s29Decode(read(t, c))
	assert.True(t, ok && p.event() == "trade", "a new connection is healthy: %+v", p)
}
