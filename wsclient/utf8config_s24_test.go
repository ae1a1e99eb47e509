package wsclient

import (
	"testing"

	"github.com/stretchr/testify/require"
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
