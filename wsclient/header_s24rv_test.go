package wsclient

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// net/http writes a request's User-Agent itself (its own,
// "Go-http-client/1.1", unless the Header has the canonical key
// "User-Agent") and leaves out a Content-Length, Transfer-Encoding or
// Trailer found under the canonical key; it writes every other key as it
// is. A header the host wrote in another case (a map literal keeps its
// key as written) went out next to net/http's: two User-Agents, net/http's
// first, so that the venue (or its firewall) saw Go's, not the host's; a
// "content-length: 5" on the body-less GET made the venue wait for a body
// until the dial timed out, every dial. Keys are matched in any case, as
// Options.HTTPHeader says: they go out under their canonical key.
func TestHandshakeHeaderKeysOfAnyCaseSentOnce(t *testing.T) {
	for _, tc := range []struct {
		hdr  http.Header
		key  string
		want []string
	}{
		{http.Header{"user-agent": {"my-bot/1.0"}}, "User-Agent", []string{"my-bot/1.0"}},
		{http.Header{"USER-AGENT": {"my-bot/1.0"}}, "User-Agent", []string{"my-bot/1.0"}},
		{http.Header{"content-length": {"5"}}, "Content-Length", nil},
		{http.Header{"x-api-key": {"a"}, "X-Api-Key": {"b"}}, "X-Api-Key", []string{"a", "b"}}, // both, under one key
	} {
		t.Run(onlyKey(tc.hdr), func(t *testing.T) {
			sent := handshakeSent(t, tc.hdr)
			require.ElementsMatch(t, tc.want, sent.Values(tc.key), "sent under %s", tc.key)
		})
	}
}
