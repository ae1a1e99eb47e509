package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Audit of issue 7: the soak mode "exits non-zero when heap or goroutines
// grow beyond a stated bound". TestShortSoak only shows a healthy run
// passing; this feeds the check samples that grow (a leak of each kind)
// and samples that do not, so a check that cannot fail fails here.
func TestAuditSoakFailsOnGrowth(t *testing.T) {
	rows := func(heapPerSample float64, goroutinesPerSample int, inUsePerSample int64) []sampleRow {
		var rs []sampleRow
		for i := range 100 {
			rs = append(rs, sampleRow{
				at:         time.Duration(i) * 5 * time.Second,
				heap:       50e6 + heapPerSample*float64(i),
				goroutines: 12 + goroutinesPerSample*i,
				inUse:      3 + inUsePerSample*int64(i),
			})
		}
		return rs
	}
	for name, c := range map[string]struct {
		rows []sampleRow
		ok   bool
	}{
		"flat":                  {rows(0, 0, 0), true},
		"heap within the bound": {rows(50e3, 0, 0), true}, // +4 MB over the fitted part
		"heap leak":             {rows(200e3, 0, 0), false},
		"goroutine leak":        {rows(0, 1, 0), false},
		"pooled objects leak":   {rows(0, 0, 1), false},
		"too few samples":       {rows(0, 0, 0)[:4], false},
		"noise around a level":  {noisy(), true},
	} {
		var out bytes.Buffer
		err := checkGrowth(c.rows, &out)
		if c.ok {
			require.NoError(t, err, "%s:\n%s", name, out.String())
			assert.Contains(t, out.String(), "soak: ok", name)
		} else {
			require.Error(t, err, "%s:\n%s", name, out.String())
			assert.NotContains(t, out.String(), "soak: ok", name)
		}
	}
}

// noisy is a run whose heap swings by 20 MB between GCs around a level,
// with a goroutine coming and going: no growth.
func noisy() []sampleRow {
	var rs []sampleRow
	for i := range 100 {
		rs = append(rs, sampleRow{
			at:         time.Duration(i) * 5 * time.Second,
			heap:       50e6 + float64(i%2)*20e6,
			goroutines: 12 + i%2,
			inUse:      int64(i % 3),
		})
	}
	return rs
}
