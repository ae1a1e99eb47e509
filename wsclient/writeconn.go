package wsclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/coder/websocket"
)

// ErrConnChanged is returned by [Client.WriteConn] when the connection it
// names is no longer the current one.
var ErrConnChanged = errors.New("wsclient: the connection named is no longer the current one")

// WriteConn is [Client.Write] on connection id only (an [Event]'s ConnID):
// when the current connection is another — the one named was lost and
// redialled, or a rotation switched — it writes nothing and returns
// [ErrConnChanged] ([ErrNotConnected] when none is up). It is for
// messages that belong to a connection's state, such as a request whose
// follow-up messages arrive only on a connection that subscribed to them,
// written by a host whose view of the connection may lag behind its
// events.
func (c *Client) WriteConn(ctx context.Context, id uint64, msg []byte) error {
	if c.life.Err() != nil {
		return ErrClosed
	}
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	switch {
	case cn == nil:
		return ErrNotConnected
	case cn.id != id:
		return fmt.Errorf("%w: connection %d, current %d", ErrConnChanged, id, cn.id)
	}
	if err := cn.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		return fmt.Errorf("wsclient: write on connection %d: %w", cn.id, err)
	}
	return nil
}
