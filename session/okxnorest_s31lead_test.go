package session_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/stretchr/testify/require"
)

// s31leadLog is a slog destination safe for the session's goroutines.
type s31leadLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *s31leadLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *s31leadLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// OKX books asked for without Endpoints.REST are kept from the stream's
// snapshots alone, which OKX no longer sends (API changelog "Delist
// initial snapshot and checksum field in order book channels"): on
// today's OKX they never go live. Start says so in a warning naming the
// setting; with Endpoints.REST (TestS31OKXSessionBooksLive) it does not.
func TestS31leadOKXBooksWithoutRESTWarn(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50, OKXBooks: venuesim.OKXBooksSnapshot})
	t.Cleanup(v.Close)
	out := new(s31leadLog)
	s := start(t, session.Config{Venue: schema.VenueOKX, Endpoints: session.Endpoints{Stream: v.OKXURL()},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"books"}, Client: fastRedial,
		Logger: slog.New(slog.NewTextHandler(out, nil))})
	waitConnected(t, s)
	require.Contains(t, out.String(), "OKX books without Endpoints.REST")
	require.Contains(t, out.String(), "level=WARN")
	require.NoError(t, s.Close(context.Background()))
}
