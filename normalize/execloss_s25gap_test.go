package normalize

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

func s25gapReport(id int, price string) []byte {
	return fmt.Appendf(nil, `{"e":"executionReport","E":1700000000000,"s":"BTCUSDT","c":"c%d","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"60000.00","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":%d,"l":"0.01000000","z":"0.01000000","L":"%s","n":"0","N":"BNB","T":1700000000000,"t":%d,"I":1,"w":false,"m":false,"M":true,"O":1700000000000,"Z":"600.00","Y":"600.00","Q":"0"}`, id, id, price, id)
}

// A storm of refused execution reports: the first is announced at once,
// the others within the second are counted and announced together by the
// first message after it; a report the parser reads brings no marker.
func TestS25gapRefusedReportsAnnouncedOncePerSecond(t *testing.T) {
	ctx := context.Background()
	p, sink, events, _ := s25gapParser(t, 64, 64)
	markers := func() (out []string) {
		for _, ev := range sink.evs {
			if ev.Type == schema.EventGap {
				out = append(out, fmt.Sprintf("%s %s %d", ev.Symbol, ev.Control.GapType, ev.Control.GapCount))
			} else {
				out = append(out, ev.Type.String())
			}
		}
		sink.drain(events)
		return out
	}
	require.NoError(t, p.HandleBytes(ctx, s25gapReport(1, "60000.00"), 1e9))
	assert.Equal(t, []string{"exec_report"}, markers(), "nothing lost, no marker")
	var pe *ParseError
	for i := range 5 {
		err := p.HandleBytes(ctx, s25gapReport(10+i, "NaN"), int64(2e9+i*1e8))
		require.True(t, errors.As(err, &pe), "%v", err)
	}
	assert.Equal(t, []string{" exec_report 1"}, markers(), "the first at once")
	require.NoError(t, p.HandleBytes(ctx, s25gapQuote("BTCUSDT", 1), 2.5e9))
	assert.Equal(t, []string{"bbo"}, markers(), "within the second: counted")
	require.NoError(t, p.HandleBytes(ctx, s25gapQuote("BTCUSDT", 2), 3e9))
	assert.Equal(t, []string{" exec_report 4", "bbo"}, markers(), "the rest, counted, with the first message after the second")
	require.NoError(t, p.HandleBytes(ctx, s25gapQuote("BTCUSDT", 3), 9e9))
	assert.Equal(t, []string{"bbo"}, markers(), "announced once")
	// Without receive times, every one is announced.
	for i := range 3 {
		require.Error(t, p.HandleBytes(ctx, s25gapReport(20+i, "x"), 0))
	}
	assert.Equal(t, []string{" exec_report 1", " exec_report 1", " exec_report 1"}, markers())
	require.NoError(t, events.Shutdown(ctx))
}
