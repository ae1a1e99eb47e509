package main

import (
	"testing"

	"github.com/meltica/meltica/examples/internal/clitest"
)

func TestS27BadValues(t *testing.T) {
	clitest.BadValues(t, run, [2]string{"-speed", "0"}, [2]string{"-speed", "-1"}, [2]string{"-depth", "-3"}, [2]string{"-print", "-1"})
}
