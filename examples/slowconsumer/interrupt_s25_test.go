package main

import (
	"testing"

	"github.com/meltica/meltica/examples/internal/clitest"
)

// Ctrl-C anywhere in the run is a clean exit (status 0), not
// "slowconsumer: context canceled" and status 1.
//
// The feed runs 300 ms, not the default 3 s: every write but the first comes
// after the feed, so each of the five runs that reach it waited the whole
// -duration in real time (38 s under -race at load 26, 7 s of them CPU;
// 22 s with 300 ms, the rest mostly the session's connecting and closing).
// The points of interruption (before the feed, during the report) are the
// same.
func TestS25Interrupted(t *testing.T) { clitest.Interrupted(t, run, "-duration", "300ms") }
