package main

import (
	"testing"

	"github.com/meltica/meltica/examples/internal/clitest"
)

// Ctrl-C anywhere in the run is a clean exit (status 0), not
// "quickstart: context canceled" and status 1.
//
// The stream runs 300 ms, not the default 3 s: each of the six runs waited
// the whole -duration in real time (11.8 s under -race, 3.3 s of it CPU);
// the points of interruption are the same (the 30 events printed come in
// the first tens of milliseconds at 2,000 msg/s, the summary after).
func TestS25Interrupted(t *testing.T) { clitest.Interrupted(t, run, "-duration", "300ms") }
