package main

import (
	"testing"

	"github.com/meltica/meltica/examples/internal/clitest"
)

func TestS24Arguments(t *testing.T) { clitest.Arguments(t, run) }
