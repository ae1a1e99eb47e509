package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSlowConsumer runs the example with the slow subscriber's pace counted
// in feed events (20 per event), so that it is twenty times slower than the
// feed however loaded the machine is; nothing depends on wall-clock time.
func TestSlowConsumer(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-duration", "1s", "-rate", "3000", "-slow-events", "20", "-orders", "10"}, &out))
	text := out.String()
	t.Log(text)
	assert.Contains(t, text, "execution reports lost: 0, out of order: 0")
	assert.Contains(t, text, "leak check: 0 outstanding")
	num := func(re string) (int, int) {
		m := regexp.MustCompile(re + `\s+(\d+)\s+(\d+)`).FindStringSubmatch(text)
		require.NotNil(t, m, re)
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		return a, b
	}
	fastExec, slowExec := num(`received exec_report`)
	assert.Positive(t, fastExec)
	assert.Equal(t, fastExec, slowExec, "the slow subscriber gets every execution report")
	fastBBO, slowBBO := num(`received bbo`)
	assert.Less(t, slowBBO, fastBBO, "the slow subscriber sees fewer best bid/offers")
	_, slowCoalesced := num(`coalesced \(latest wins\)`)
	assert.Positive(t, slowCoalesced)
	_, slowDropped := num(`dropped \(ordered lane\)`)
	_, slowLost := num(`events lost per gap markers`)
	assert.Positive(t, slowDropped, "the slow subscriber falls behind on trades and diffs")
	assert.Equal(t, slowDropped, slowLost, "every drop is announced by a gap marker")
	m := regexp.MustCompile(`slow subscriber: (\d+) deliveries, (\d+) of them data, (\d+) gap markers`).FindStringSubmatch(text)
	require.NotNil(t, m)
	total, _ := strconv.Atoi(m[1])
	markers, _ := strconv.Atoi(m[3])
	assert.Less(t, 2*markers, total, "most of the slow subscriber's deliveries are data")
}
