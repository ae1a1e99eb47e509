package wsclient_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// A nil context (the context package: "Do not pass a nil Context") is
// pool.ErrNilContext from Run, Close, Write and WriteConn, and changes
// nothing: Close(nil) used to be handed to a goroutine of the session's,
// where its panic ended the process. After it, Close with a real context
// closes, and Run then returns ErrClosed.
func TestS32NilContext(t *testing.T) {
	c, err := wsclient.New("ws://127.0.0.1:1/never", func(context.Context, *schema.WsFrame) error { return nil }, nil)
	require.NoError(t, err)
	var nilCtx context.Context
	require.ErrorIs(t, c.Run(nilCtx), pool.ErrNilContext)
	require.ErrorIs(t, c.Close(nilCtx), pool.ErrNilContext)
	err = c.Write(nilCtx, []byte("x"))
	require.ErrorIs(t, err, pool.ErrNilContext)
	require.ErrorIs(t, err, wsclient.ErrNotSent)
	require.ErrorIs(t, c.WriteConn(nilCtx, 1, []byte("x")), wsclient.ErrNotSent)
	require.NoError(t, c.Close(context.Background()))
	require.ErrorIs(t, c.Run(context.Background()), wsclient.ErrClosed)
}
