package main

import (
	"testing"

	"github.com/meltica/meltica/examples/internal/clitest"
)

func TestS27BadValues(t *testing.T) {
	clitest.BadValues(t, run, [2]string{"-wait", "0"}, [2]string{"-wait", "-1s"})
}
