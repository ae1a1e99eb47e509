package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/internal/exit"
)

// cancelOn is an output that cancels when a line holding mark is written.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	mark   string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if strings.Contains(string(p), c.mark) {
		c.cancel()
	}
	return c.buf.Write(p)
}

func (c *cancelOn) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// Ctrl-C (the context ending) while a fault is being waited out stops the
// example there: no later fault is injected, the session is closed, the
// leak check printed, and the run is reported interrupted, not as faults
// that did not recover. Before, every wait ran to its -wait or to the
// recovery, and then every remaining fault and the rotation ran too.
func TestS24InterruptStopsTheDrill(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelOn{mark: `fault "stall"`, cancel: cancel}
	err := run(ctx, []string{"-wait", "30s"}, out)
	text := out.String()
	t.Log(text)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "interrupted")
	assert.Equal(t, 0, exit.Status(ctx, err), "a clean stop on Ctrl-C is no failure")
	assert.NotContains(t, text, `fault "no-pong"`, "no fault after the interrupt")
	assert.NotContains(t, text, `max-age`, "no rotation drill after the interrupt")
	assert.NotContains(t, text, "NOT RECOVERED")
	assert.Contains(t, text, "leak check: 0 outstanding")
}
