package wsclient

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The client's own messages go out as text (RFC 6455 §5.6), which a venue
// must refuse when they are not UTF-8 (§8.1: it fails the connection,
// 1007): a subscription or a heartbeat that is not UTF-8 would end every
// connection, redialled for ever. New refuses it, naming the message.
func TestNewRefusesNonUTF8ClientMessages(t *testing.T) {
	bad := []byte("{\"op\":\"\xff\"}")
	for name, opts := range map[string]*Options{
		"Subscriptions": {Subscriptions: [][]byte{[]byte(`{"ok":1}`), bad}},
		"Heartbeat":     {Heartbeat: bad},
		"EncodeSubscribe": {Topics: []string{"a"}, EncodeSubscribe: func(dst []byte, _ int, _ []string) []byte {
			return append(dst, bad...)
		}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New("ws://venue.invalid/", nop, opts)
			require.ErrorContains(t, err, name)
			require.ErrorContains(t, err, "UTF-8")
		})
	}
	_, err := New("ws://venue.invalid/", nop, &Options{Subscriptions: [][]byte{[]byte(`{"sym":"€"}`)}, Heartbeat: []byte("ping")})
	require.NoError(t, err)
}

// One message of the host's that is not UTF-8 (an order whose client id
// came from user input) must cost only itself: sent as text, the venue
// fails the connection on it (RFC 6455 §8.1, 1007), and with it every
// stream and the other orders in flight. Write and WriteConn refuse it
// with ErrInvalidUTF8 and send nothing; the connection is kept.
func TestWriteRefusesNonUTF8(t *testing.T) {
	h, v := startWriting(t, readingVenue)
	bad := []byte("{\"clOrdId\":\"\xc3\x28\"}")
	require.ErrorIs(t, h.c.Write(context.Background(), bad), ErrInvalidUTF8)
	require.ErrorIs(t, h.c.WriteConn(context.Background(), 1, bad), ErrInvalidUTF8)
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"ok":"€"}`)))
	require.Eventually(t, func() bool { return len(v.received(1)) == 1 }, wait, time.Millisecond)
	require.Equal(t, []string{`{"ok":"€"}`}, v.received(1))
	require.Zero(t, h.c.Stats().TotalReconnects())
	h.finish(v)
}

// readingVenue reads what the client writes until the client goes.
func readingVenue(s *session) {
	s.readForever()
	<-s.ctx.Done()
}

// startWriting starts a client without subscriptions on a venue running
// script and waits for its connection 1: for tests of Write.
func startWriting(t *testing.T, script func(s *session)) (*harness, *venue) {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, script)
	opts := quickOptions()
	opts.Subscriptions = nil
	h := start(t, v.url(), opts, &sink{}, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	return h, v
}
