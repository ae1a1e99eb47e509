package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/benchmarks/baseline"
	"github.com/meltica/meltica/benchmarks/internal/collect"
	"github.com/meltica/meltica/schema"
)

func TestMain(m *testing.M) {
	if os.Getenv(senderEnv) != "" { // run re-executed as the sender process
		os.Exit(senderMain(os.Args[1:], os.Stdin, os.Stdout))
	}
	goleak.VerifyTestMain(m)
}

// TestLatencyAll runs every implementation briefly, each against a sender
// process, and checks each saw every message of the measured window on one
// connection and printed every stage.
func TestLatencyAll(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-rates", "2000", "-duration", "500ms", "-warmup", "200ms", "-impl", "baseline,meltica,inline,sink"}, &out))
	t.Log(out.String())
	for _, impl := range []string{"baseline", "meltica", "inline", "sink"} {
		m := regexp.MustCompile(`(?m)^` + impl + `\s+2000\s+\d+\s+(\d+)\s+(\d+)\s+(\d+) \|`).FindStringSubmatch(out.String())
		require.NotNil(t, m, "a result row for %s", impl)
		events, _ := strconv.Atoi(m[1])
		lost, _ := strconv.Atoi(m[2])
		assert.Equal(t, 1000, events+lost, "%s: every measured message seen or counted lost", impl)
		if impl != "meltica" { // only the dispatcher's lane may drop (a subscriber starved on a busy machine)
			assert.Zero(t, lost, impl)
		}
		assert.Equal(t, "1", m[3], "%s: one connection", impl)
		assert.Regexp(t, `\n`+impl+`\s+2000 \| [0-9.]+[µm]s/`, out.String(), "a stage row")
	}
	for _, s := range stageNames {
		assert.Contains(t, out.String(), s)
	}
}

// TestShortSoak is the soak mode in small: it must find no growth. The run
// is small (500 msg/s for 2 s, 1 051 messages) so that every message arrives
// within the harness's grace (30 s past the schedule) on a loaded two-core
// machine under -race: there the receiver got so little CPU that it took
// about 90 messages a second, and 5 000 msg/s for 3 s missed the grace.
func TestShortSoak(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-soak", "-rate", "500", "-duration", "2s", "-sample", "250ms"}, &out)
	t.Log(out.String())
	require.NoError(t, err)
	assert.Contains(t, out.String(), "soak: ok")
	assert.Contains(t, out.String(), "1 connection(s)")
	assert.Contains(t, out.String(), "heap slope")
	assert.Contains(t, out.String(), "goroutine slope")
	assert.Contains(t, out.String(), "pool slope")
}

// TestSendStampKept checks that both pipelines keep the message number and
// the exact send stamp of a harness message in the canonical event.
func TestSendStampKept(t *testing.T) {
	const id, sent = 123456, int64(1732912345_000000789)
	frame := appendTrade(nil, id, 1732912345000, sent)

	base, err := baseline.Decode(frame, 1)
	require.NoError(t, err)
	require.Len(t, base, 1)

	var got []*schema.CanonicalEvent
	p := collect.Binance(&got)
	require.NoError(t, p.HandleBytes(context.Background(), frame, 1))
	require.Len(t, got, 1)

	for _, ev := range []*schema.CanonicalEvent{base[0], got[0]} {
		assert.Equal(t, uint64(id), ev.SeqProvider)
		assert.Equal(t, sent, ev.Trade.Qty.Mantissa())
		assert.Equal(t, 9, ev.Trade.Qty.Scale())
	}
}

// TestWaitUntilNeverEarly checks the pacer never returns before the due
// instant (how late it is depends on the machine and is not asserted).
func TestWaitUntilNeverEarly(t *testing.T) {
	lockThread()
	defer runtime.UnlockOSThread()
	for _, d := range []time.Duration{0, 10 * time.Microsecond, 300 * time.Microsecond, 2 * time.Millisecond} {
		due := time.Now().Add(d)
		waitUntil(due, 100*time.Microsecond)
		assert.False(t, time.Now().Before(due), "returned before %s", d)
	}
}

func TestSlope(t *testing.T) {
	assert.InDelta(t, 2.0, slope([]float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}), 1e-9)
	assert.Zero(t, slope([]float64{1, 1}, []float64{2, 3}))
}
