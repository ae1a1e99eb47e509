package normalize

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A member after "event" in Binance's WS-API user-data wrapper
// ({"subscriptionId":N,"event":{…},"x":…}; JSON objects are unordered and
// Binance adds fields: RFC 8259 §4) changes nothing: every wrapped event
// normalises as without it. Found by the outside contract team
// (TestS29ctWrappedAccountPositionTrailingMember): outboundAccountPosition,
// split into its balances, was a *ParseError ("invalid character ','
// after top-level value") while balanceUpdate and executionReport passed.
func TestS29rvWrappedTrailingMember(t *testing.T) {
	for _, name := range []string{"binance_spot_outboundAccountPosition_wrapped", "binance_spot_balanceUpdate_wrapped", "binance_spot_executionReport_wrapped", "combined ACCOUNT_UPDATE"} {
		data, err := os.ReadFile("../testdata/venues/" + name + ".json")
		if name == "combined ACCOUNT_UPDATE" {
			data, err = []byte(`{"stream":"pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1","data":{"e":"ACCOUNT_UPDATE","E":1564745798939,"T":1564745798938,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"122624.12345678","cw":"100.12345678","bc":"50.12345678"}],"P":[{"s":"BTCUSDT","pa":"0","ep":"0.00000","cr":"200","up":"0","mt":"isolated","iw":"0.00000000","ps":"BOTH"}]}}}`), nil
		}
		require.NoError(t, err)
		end := bytes.LastIndexByte(data, '}')
		for _, extra := range []string{`"x":1`, `"x":{}`, `"x":{"e":"y"}`, `"x":[1]`, `"x":"}"`} {
			t.Run(name+" "+extra, func(t *testing.T) {
				want := wrappedEvents(t, data)
				msg := append(append(append([]byte{}, data[:end]...), ","+extra...), data[end:]...)
				got := wrappedEvents(t, msg)
				require.Equal(t, want, got, "%s", msg)
			})
		}
	}
}

// wrappedEvents returns the events a fresh Binance parser makes of msg,
// rendered without their Raw.
func wrappedEvents(t *testing.T, msg []byte) []string {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := newVenueParser(schema.VenueBinance, events, sink)
	require.NoError(t, p.HandleBytes(context.Background(), msg, 1), "%s", msg)
	var out []string
	for _, ev := range sink.got {
		out = append(out, s42normDump(ev, false))
	}
	require.NotEmpty(t, out)
	st := p.Stats()
	return append(out, fmt.Sprintf("messages %d errors %d", st.Messages, st.Errors))
}
