package main

import (
	"testing"

	"github.com/meltica/meltica/examples/internal/clitest"
)

func TestS27BadValues(t *testing.T) {
	clitest.BadValues(t, run, [2]string{"-rate", "0"}, [2]string{"-rate", "-5"}, [2]string{"-duration", "0"},
		[2]string{"-duration", "-1s"}, [2]string{"-print", "-1"})
}
