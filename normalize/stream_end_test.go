package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Messages that end or degrade a stream become critical control events
// with the venue's code and reason — never "unknown" — on every venue.
func TestStreamEndingMessages(t *testing.T) {
	tests := []struct {
		name   string
		venue  schema.Venue
		frame  string
		kind   schema.ControlKind
		code   int64
		reason string
		reqID  uint64
		ts     int64
	}{
		{"binance listenKeyExpired E number", schema.VenueBinance,
			`{"e":"listenKeyExpired","E":1699596037418,"listenKey":"OfYGbUzi3PraNagEkdKuFwUHn48brFsItTdsuiIXrucEvD0rhRXZ7I6URWfE8YE8"}`,
			schema.ControlVenueError, 0, "listenKeyExpired", 0, 1699596037418e6},
		{"binance listenKeyExpired E string", schema.VenueBinance,
			`{"e":"listenKeyExpired","E":"1699596037418","listenKey":"OfYGbUzi3PraNagEkdKuFwUHn48brFsItTdsuiIXrucEvD0rhRXZ7I6URWfE8YE8"}`,
			schema.ControlVenueError, 0, "listenKeyExpired", 0, 1699596037418e6},
		{"binance listenKeyExpired combined", schema.VenueBinance,
			`{"stream":"OfYGbUzi3PraNagEkdKuFwUHn48brFsItTdsuiIXrucEvD0rhRXZ7I6URWfE8YE8","data":{"e":"listenKeyExpired","E":"1699596037418","listenKey":"x"}}`,
			schema.ControlVenueError, 0, "listenKeyExpired", 0, 1699596037418e6},
		{"binance eventStreamTerminated", schema.VenueBinance,
			`{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1728973001334}}`,
			schema.ControlVenueError, 0, "eventStreamTerminated", 0, 1728973001334e6},
		{"binance serverShutdown", schema.VenueBinance,
			`{"event":{"e":"serverShutdown","E":1728973001334},"subscriptionId":3}`,
			schema.ControlStatus, 0, "serverShutdown", 0, 1728973001334e6},
		{"binance flat error", schema.VenueBinance,
			`{"code":2,"msg":"Invalid request: request ID must be an unsigned integer","id":1}`,
			schema.ControlVenueError, 2, "Invalid request: request ID must be an unsigned integer", 1, 0},
		{"binance flat error null id", schema.VenueBinance,
			`{"code":3,"msg":"Invalid JSON: expected value at line 1 column 1","id":null}`,
			schema.ControlVenueError, 3, "Invalid JSON: expected value at line 1 column 1", 0, 0},
		{"binance WS-API error", schema.VenueBinance,
			`{"id":"922bcc6e","status":400,"error":{"code":-1102,"msg":"Mandatory parameter 'timestamp' was not sent."}}`,
			schema.ControlVenueError, -1102, "Mandatory parameter 'timestamp' was not sent.", 0, 0},
		{"okx notice: service upgrade", schema.VenueOKX,
			`{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"}`,
			schema.ControlStatus, 64008, "The connection will soon be closed for a service upgrade. Please reconnect.", 0, 0},
		{"okx error", schema.VenueOKX,
			`{"event":"error","code":"60012","msg":"Invalid request","connId":"a4d3ae55"}`,
			schema.ControlVenueError, 60012, "Invalid request", 0, 0},
		{"okx connection limit", schema.VenueOKX,
			`{"event":"channel-conn-count-error","channel":"orders","connCount":"30","connId":"a4d3ae55"}`,
			schema.ControlVenueError, 0, "channel-conn-count-error", 0, 0}, // no code or msg sent: the event names it
		{"bybit op failure", schema.VenueBybit,
			`{"success":false,"ret_msg":"error:handler not found","ret_code":10001,"conn_id":"cfn6p","req_id":"7","op":"subscribe"}`,
			schema.ControlVenueError, 10001, "error:handler not found", 7, 0},
		{"coinbase error", schema.VenueCoinbase,
			`{"type":"error","message":"authentication failure"}`,
			schema.ControlVenueError, 0, "authentication failure", 0, 0},
		{"kraken v2 status maintenance", schema.VenueKraken,
			`{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":18266300427528990701,"system":"maintenance","version":"2.0.0"}]}`,
			schema.ControlStatus, 0, "maintenance", 0, 0},
		{"kraken v2 status cancel_only", schema.VenueKraken,
			`{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":1,"system":"cancel_only","version":"2.0.0"}]}`,
			schema.ControlStatus, 0, "cancel_only", 0, 0},
		{"kraken v1 systemStatus maintenance", schema.VenueKraken,
			`{"connectionID":8628615390848610000,"event":"systemStatus","status":"maintenance","version":"1.0.0"}`,
			schema.ControlStatus, 0, "maintenance", 0, 0},
		{"kraken v2 error", schema.VenueKraken,
			`{"error":"Currency pair not supported","method":"subscribe","success":false,"req_id":12}`,
			schema.ControlVenueError, 0, "Currency pair not supported", 12, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := newVenueParser(tt.venue, events, sink).(*Parser)
			require.NoError(t, p.HandleBytes(context.Background(), []byte(tt.frame), 1))
			c := control(t, sink.got, tt.venue, tt.kind)
			require.True(t, sink.got[0].Type.Critical())
			require.Equal(t, tt.code, c.Code)
			require.Equal(t, tt.reason, c.Reason)
			require.Equal(t, tt.reqID, c.RequestID)
			require.Equal(t, tt.ts, sink.got[0].ExchangeTS)
			require.Zero(t, p.Stats().Unknown)
			require.Equal(t, uint64(1), p.Stats().Control)
			require.Zero(t, events.Stats().InUse)
		})
	}
}

// A stream-ending message is critical: it waits for an exhausted pool
// rather than being dropped like market data.
func TestStreamEndWaitsForPool(t *testing.T) {
	events := pool.New("tiny", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	held, err := events.Get(context.Background())
	require.NoError(t, err)
	got := make(chan *schema.CanonicalEvent, 1)
	p := NewBinance(events, SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		got <- ev.Clone()
		events.Put(ev)
		return nil
	}), nil)
	done := make(chan error, 1)
	go func() {
		done <- p.HandleBytes(context.Background(), []byte(`{"e":"listenKeyExpired","E":"1","listenKey":"k"}`), 1)
	}()
	events.Put(held) // the parser was waiting for this one
	require.NoError(t, <-done)
	ev := <-got
	require.Equal(t, "listenKeyExpired", ev.Control.Reason)
	require.Zero(t, p.Stats().Dropped)
}
