package main

import (
	"testing"

	"github.com/meltica/meltica/examples/internal/clitest"
)

// Ctrl-C anywhere in the run is a clean exit (status 0), not
// "orderflow: context canceled" and status 1.
func TestS25Interrupted(t *testing.T) { clitest.Interrupted(t, run) }
