package wsclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/meltica/meltica/pool"
)

// ErrConnChanged is returned by [Client.WriteConn] when the connection it
// names is no longer the current one, and by WriteConn and [Client.Write]
// when the connection ended before the message's write began. Nothing was
// sent: it matches [ErrNotSent].
var ErrConnChanged = errors.New("wsclient: the connection named is no longer the current one")

// WriteConn is [Client.Write] on connection id only (an [Event]'s ConnID):
// when the current connection is another — the one named was lost and
// redialled, or a rotation switched — it writes nothing and returns
// [ErrConnChanged] ([ErrNotConnected] when none is up). It is for
// messages that belong to a connection's state, such as a request whose
// follow-up messages arrive only on a connection that subscribed to them,
// written by a host whose view of the connection may lag behind its
// events. Its results mean what Write's do.
func (c *Client) WriteConn(ctx context.Context, id uint64, msg []byte) error {
	if ctx == nil {
		return notSent(pool.ErrNilContext)
	}
	cn, err := c.current()
	if err != nil {
		return notSent(err)
	}
	if cn.id != id {
		return notSent(fmt.Errorf("%w: connection %d, current %d", ErrConnChanged, id, cn.id))
	}
	return cn.write(ctx, msg)
}
