package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Audit of issue 17: "examples/bot: the bot above, using the new package,
// in ≤ 80 lines of code". Lines of code are main.go's lines that are neither
// blank nor a // comment (the package clause and imports count).
func TestAuditBotLinesOfCode(t *testing.T) {
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	n := 0
	for line := range bytes.Lines(src) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && !bytes.HasPrefix(line, []byte("//")) {
			n++
		}
	}
	assert.LessOrEqual(t, n, 80, "examples/bot/main.go has %d lines of code; issue 17 promises at most 80", n)
}
