package normalize

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// JSON objects are unordered (RFC 8259 §4): a Binance combined-stream or
// WS-API user-data wrapper with a member after "data"/"event" is the same
// message as without it. The fast split cuts the payload by the wrapper's
// leading members and its last '}', so such a frame was refused as
// malformed; it must give exactly the event the plain frame gives, counted
// once, and the frames that are not JSON stay refused (TestS27rvFastSplit*).
func TestS28FastSplitMemberAfterPayload(t *testing.T) {
	files := []string{"combined_trade", "combined_bookTicker", "combined_depth5", "exec_wrapped_amendment"}
	// The WS-API wrapper with "e" not first: classified by decoding the
	// payload, the other path a cut payload goes through.
	const eLater = `{"subscriptionId":3,"event":{"E":1700000002500,"e":"executionReport","s":"BTCUSDT","c":"bot-5","S":"BUY","o":"LIMIT","f":"GTC","q":"0.2","p":"36000","P":"0","x":"NEW","X":"NEW","r":"NONE","i":116,"l":"0","z":"0","L":"0","n":"0","N":null,"T":1700000002499,"t":-1,"O":1700000002000,"Z":"0"}}`
	frames := map[string]string{"e later": eLater}
	for _, f := range files {
		b, err := os.ReadFile("testdata/binance/" + f + ".json")
		require.NoError(t, err)
		frames[f] = strings.TrimSpace(string(b))
	}
	extras := []string{`,"x":1`, `,"x":{}`, `,"x":{"e":"trade"}`, `,"x":[1,{}]`, `,"x":"}"`, " ,\n\t\"x\" : null "}
	for name, plain := range frames {
		want, wantStats := parseBinanceFrame(t, plain)
		require.NotEmpty(t, want, "%s: the plain frame gives no event", name)
		for _, extra := range extras {
			in := plain[:len(plain)-1] + extra + "}"
			t.Run(name+extra, func(t *testing.T) {
				got, st := parseBinanceFrame(t, in)
				assert.Equal(t, want, got, in)
				assert.Equal(t, wantStats, st, in)
			})
		}
	}
}

// parseBinanceFrame parses one frame with a fresh Binance parser and returns the
// events published and the parser's counts.
func parseBinanceFrame(t *testing.T, in string) ([]any, Stats) {
	t.Helper()
	p, sink, _ := newRecParser(t, nil)
	err := p.HandleBytes(context.Background(), []byte(in), 1)
	require.NoError(t, err, in)
	out := make([]any, len(sink.got))
	for i, ev := range sink.got {
		out[i] = *ev
	}
	return out, p.Stats()
}

// A wrapped execution report that is not JSON (cut short, garbage after
// it) is still refused as the execution report it names, announced by an
// exec-report gap marker (contract 3), as before the resplit: only a
// frame goccy can split is split again.
func TestS28FastSplitBrokenReportAnnounced(t *testing.T) {
	b, err := os.ReadFile("testdata/binance/exec_wrapped_amendment.json")
	require.NoError(t, err)
	whole := strings.TrimSpace(string(b))
	for name, in := range map[string]string{
		"garbage after": whole[:len(whole)-1] + "xyz}",
		"second value":  whole[:len(whole)-1] + "{}}",
		"bad member":    whole[:len(whole)-1] + `,"x":}`,
	} {
		t.Run(name, func(t *testing.T) {
			p, sink, _ := newRecParser(t, nil)
			err := p.HandleBytes(context.Background(), []byte(in), 1)
			require.Error(t, err)
			var markers int
			for _, ev := range sink.got {
				if ev.Type == schema.EventGap && ev.Control.GapType == schema.EventExecReport {
					markers++
				}
			}
			assert.Equal(t, 1, markers, "a refused execution report was not announced")
			assert.Equal(t, uint64(1), p.Stats().Messages)
		})
	}
}
