package meltica_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
)

// s31ctConnected waits until s is connected, for at most s27ctWait, and
// returns a context bounded by the same wait that ends with the test:
// the set-up the s30ct session tests repeated (ctx, cancel, defer cancel,
// WaitConnected) in one place.
func s31ctConnected(t *testing.T, s *session.Session) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
	t.Cleanup(cancel)
	require.NoError(t, s.WaitConnected(ctx))
	return ctx
}
