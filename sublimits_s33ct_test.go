package meltica_test

// Outside contract tests, round 8 (s33ct): the venues' documented limits
// on a subscription request, kept by what the session sends. Written from
// the venues' docs and session's Config docs, against a loopback peer
// (s30ctPeer) that answers as the venue's docs say.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// s33ctSymbols returns n canonical symbols quoted in USDT.
func s33ctSymbols(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("C%c%c-USDT", 'A'+i/26, 'A'+i%26)
	}
	return out
}

// Bybit v5 "WebSocket Connect" ("How to subscribe to topics"): "You can
// input up to 10 args for each subscription request sent to one
// connection" on spot; a request with more is refused with
// {"success":false,"ret_msg":"args size >10","op":"subscribe"} (the
// answer reported in yufuquant/rust-bybit#24, nautilus_trader#1793, pybit
// #60) and none of its topics is subscribed. A session of 25 spot symbols
// of one channel: every subscribe request it sends on the public spot
// connection holds at most 10 args, and the 25 topics are all asked for.
func TestS33ctBybitSpotSubscribeAtMostTenArgs(t *testing.T) {
	const n = 25
	for _, ch := range []string{"publicTrade", "tickers", "orderbook.50"} {
		t.Run(ch, func(t *testing.T) {
			peer := newS30ctPeer(t)
			peer.handle("/v5/public/spot", func(_ *s30ctConn, text string) []string {
				var m struct {
					Op    string   `json:"op"`
					ReqID string   `json:"req_id"`
					Args  []string `json:"args"`
				}
				if json.Unmarshal([]byte(text), &m) != nil || m.Op != "subscribe" {
					return nil
				}
				if len(m.Args) > 10 {
					return []string{`{"success":false,"ret_msg":"args size >10","conn_id":"s33ct-1","op":"subscribe"}`}
				}
				return []string{fmt.Sprintf(`{"success":true,"ret_msg":"","conn_id":"s33ct-1","req_id":%q,"op":"subscribe"}`, m.ReqID)}
			})
			s, err := session.Start(context.Background(), session.Config{
				Venue:       schema.VenueBybit,
				Endpoints:   session.Endpoints{Stream: peer.ws("/v5/public/spot")},
				Symbols:     s33ctSymbols(n),
				Channels:    []string{ch},
				NoClockSync: true,
				Client:      s30ctFast(),
			})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })

			asked := map[string]bool{}
			for len(asked) < n {
				msg := peer.await("/v5/public/spot", func(text string) bool { return strings.Contains(text, `"subscribe"`) })
				var m struct {
					Args []string `json:"args"`
				}
				require.NoError(t, json.Unmarshal([]byte(msg.text), &m), "%s", msg.text)
				if !assert.LessOrEqual(t, len(m.Args), 10, "a spot subscribe request of %d args (Bybit: up to 10): %.200s…", len(m.Args), msg.text) {
					return
				}
				for _, a := range m.Args {
					asked[a] = true
				}
			}
			for _, sym := range s33ctSymbols(n) {
				topic := ch + "." + strings.ReplaceAll(sym, "-", "")
				assert.True(t, asked[topic], "%s asked for", topic)
			}
		})
	}
}

// Contract 5 ("no silent stalls") and normalize's README line: "stream-
// ending and error messages as critical control events". A Bybit spot
// connection whose subscribe request the venue refuses ({"success":false,
// "ret_msg":…,"op":"subscribe"}, Bybit v5 "WebSocket Connect": the
// response of a subscribe) brings none of its topics' data while its
// connection stays up: the host hears of it — a ControlVenueError with
// the venue's ret_msg — rather than waiting on trades that never come.
func TestS33ctBybitRefusedSubscribeIsHeard(t *testing.T) {
	for name, refusal := range map[string]string{
		"args size":  `{"success":false,"ret_msg":"args size >10","conn_id":"s33ct-2","op":"subscribe"}`,
		"bad topic":  `{"success":false,"ret_msg":"error:handler not found,topic:publicTrade.CAAUSDT","conn_id":"s33ct-2","req_id":"1","op":"subscribe"}`,
		"bad req_id": `{"success":false,"ret_msg":"error:already subscribed,topic:publicTrade.CAAUSDT","conn_id":"s33ct-2","req_id":"","op":"subscribe"}`,
	} {
		t.Run(name, func(t *testing.T) {
			peer := newS30ctPeer(t)
			peer.handle("/v5/public/spot", func(_ *s30ctConn, text string) []string {
				if strings.Contains(text, `"subscribe"`) {
					return []string{refusal}
				}
				return nil
			})
			heard := make(chan string, 16)
			s, err := session.Start(context.Background(), session.Config{
				Venue:       schema.VenueBybit,
				Endpoints:   session.Endpoints{Stream: peer.ws("/v5/public/spot")},
				Symbols:     s33ctSymbols(1),
				Channels:    []string{"publicTrade"},
				NoClockSync: true,
				Client:      s30ctFast(),
				// before the first connection: nothing missed
				Subscribe: func(d *dispatch.Dispatcher) error {
					_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
						if ev.Type == schema.EventControl && ev.Control.Kind == schema.ControlVenueError {
							select {
							case heard <- ev.Control.Reason:
							default:
							}
						}
					}})
					return err
				},
			})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
			peer.await("/v5/public/spot", func(text string) bool { return strings.Contains(text, `"subscribe"`) })
			select {
			case r := <-heard:
				t.Logf("heard: %s", r)
			case <-time.After(s27ctWait):
				t.Fatalf("the venue's refusal %s never reached the host: a connection up, no data, no word", refusal)
			}
		})
	}
}

// OKX v5 "WebSocket → Subscribe": "Users can choose to subscribe to one
// or more channels, and the total length of multiple channels cannot
// exceed 64 KB." OKX documents no count of channels per connection (its
// limits are per request and per hour: 480 subscribe, unsubscribe or
// login requests per connection), so a host may set Config.
// MaxTopicsPerConn past Binance's 1024 ("the streams per market
// connection", Config's doc). 2000 perpetuals' tickers on one connection:
// every subscribe request's args hold at most 64 KiB, and the 2000
// channels are all asked for.
func TestS33ctOKXSubscribeArgsWithin64KB(t *testing.T) {
	const n = 2000
	peer := newS30ctPeer(t)
	peer.handle("/ws/v5/public", func(*s30ctConn, string) []string { return nil })
	syms := make([]string, n)
	for i := range syms {
		syms[i] = fmt.Sprintf("S33CT%04d-USDT-PERP", i)
	}
	s, err := session.Start(context.Background(), session.Config{
		Venue:            schema.VenueOKX,
		Endpoints:        session.Endpoints{Stream: peer.ws("/ws/v5/public")},
		Symbols:          syms,
		Channels:         []string{"tickers"},
		MaxTopicsPerConn: n,
		NoClockSync:      true,
		Client:           s30ctFast(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })

	asked := map[string]bool{}
	for len(asked) < n {
		msg := peer.await("/ws/v5/public", func(text string) bool { return strings.Contains(text, `"subscribe"`) })
		var m struct {
			Args json.RawMessage `json:"args"`
		}
		require.NoError(t, json.Unmarshal([]byte(msg.text), &m))
		if !assert.LessOrEqual(t, len(m.Args), 64<<10, "a subscribe request whose args are %d bytes (OKX: at most 64 KB): %.200s…", len(m.Args), msg.text) {
			return
		}
		var args []struct {
			InstID string `json:"instId"`
		}
		require.NoError(t, json.Unmarshal(m.Args, &args))
		for _, a := range args {
			asked[a.InstID] = true
		}
	}
	assert.Len(t, asked, n)
}
