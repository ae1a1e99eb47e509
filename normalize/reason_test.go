package normalize

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// venueErrors are venue error messages whose reason is free text, one or
// more per venue, in the shapes each venue documents (values our own).
var venueErrors = []struct {
	name   string
	newP   func(*pool.Pool[*schema.CanonicalEvent], Sink, *Options) *Parser
	msg    string
	reason string
	code   int64
}{
	{"binance ws-api error", NewBinance, `{"id":7,"status":400,"error":{"code":-1102,"msg":"Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."}}`, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.", -1102},
	{"binance flat error", NewBinance, `{"code":2,"msg":"Invalid request: unknown variant ` + "`SUBSCRIB`" + `","id":1}`, "Invalid request: unknown variant `SUBSCRIB`", 2},
	{"okx error", NewOKX, `{"event":"error","code":"60012","msg":"Invalid request: {\"op\": \"subscribe\", \"argss\":[{ \"channel\" : \"tickers\"}]}","connId":"a4d3ae55"}`, `Invalid request: {"op": "subscribe", "argss":[{ "channel" : "tickers"}]}`, 60012},
	{"bybit op refused", NewBybit, `{"success":false,"ret_msg":"error:handler not found","conn_id":"2324d924","req_id":"","op":"subscribe"}`, "error:handler not found", 0},
	{"coinbase exchange error", NewCoinbase, `{"type":"error","message":"Failed to subscribe","reason":"BTC-UST is not a valid product"}`, "Failed to subscribe: BTC-UST is not a valid product", 0},
	{"kraken v2 method error", NewKraken, `{"method":"subscribe","req_id":42,"success":false,"error":"Currency pair not supported XBT/USDX","time_in":"2023-09-26T12:00:00.000000Z","time_out":"2023-09-26T12:00:00.000001Z"}`, "Currency pair not supported XBT/USDX", 0},
	{"kraken long error", NewKraken, `{"method":"subscribe","req_id":43,"success":false,"error":"` + strings.Repeat("x", maxReason+10) + `"}`, strings.Repeat("x", maxReason+10), 0},
}

// A venue's error reaches the host with its whole free-text reason, and a
// repeated error (the usual case) costs no allocation once the parser has
// seen it: the reason is decoded into the message struct and interned.
func TestVenueErrorReasons(t *testing.T) {
	ctx := context.Background()
	for _, tt := range venueErrors {
		t.Run(tt.name, func(t *testing.T) {
			p, sink, _ := newVenueRecParser(t, tt.newP)
			require.NoError(t, p.HandleBytes(ctx, []byte(tt.msg), 1))
			require.Len(t, sink.got, 1)
			ev := sink.got[0]
			assert.Equal(t, schema.EventControl, ev.Type)
			assert.Equal(t, schema.ControlVenueError, ev.Control.Kind)
			assert.Equal(t, tt.reason, ev.Control.Reason)
			if tt.code != 0 {
				assert.Equal(t, tt.code, ev.Control.Code)
			}
		})
	}
}

func TestVenueErrorReasonsZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	ctx := context.Background()
	for _, tt := range venueErrors {
		if len(tt.reason) > maxReason {
			continue // a long text is a string of its own, by design
		}
		t.Run(tt.name, func(t *testing.T) {
			events := schema.NewPools(nil).Events
			p := tt.newP(events, &putSink{events: events}, nil)
			msg := []byte(tt.msg)
			for range 3 {
				require.NoError(t, p.HandleBytes(ctx, msg, 1))
			}
			allocs := testing.AllocsPerRun(50, func() {
				if err := p.HandleBytes(ctx, msg, 1); err != nil {
					t.Fatal(err)
				}
			})
			assert.Zero(t, allocs, "allocations per repeated venue error")
		})
	}
}

// The table of interned reasons is bounded: a venue that sends a new text
// every time cannot grow the parser without limit.
func TestReasonTableBounded(t *testing.T) {
	p, sink, _ := newVenueRecParser(t, NewBinance)
	for i := range maxReasons + 50 {
		msg := `{"code":2,"msg":"Invalid request ` + strings.Repeat("y", i%7) + string(rune('a'+i%26)) + `-` + itoa(i) + `","id":1}`
		require.NoError(t, p.HandleBytes(context.Background(), []byte(msg), 1))
	}
	assert.Len(t, sink.got, maxReasons+50)
	assert.Equal(t, maxReasons, len(p.reasons))
	assert.Equal(t, "Invalid request a-0", sink.got[0].Control.Reason)
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func newVenueRecParser(t *testing.T, newP func(*pool.Pool[*schema.CanonicalEvent], Sink, *Options) *Parser) (*Parser, *recSink, *pool.Pool[*schema.CanonicalEvent]) {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := newP(events, sink, nil)
	t.Cleanup(func() { require.Zero(t, events.Stats().InUse, "events not returned to the pool") })
	return p, sink, events
}
