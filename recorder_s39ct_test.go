package meltica_test

// Outside contract tests, round 14 (s39ct): the recorder's promises,
// written from recorder/doc.go, its exported docstrings, venuesim's Replay
// docstring and the README's recorder row, without reading the code.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// s39ctMsg is one message a loopback venue sends: text or binary.
type s39ctMsg struct {
	binary bool
	data   []byte
}

// s39ctVenue is a venue on loopback (coder/websocket Accept) that writes
// msgs, text or binary as each says, on every connection, then holds the
// connection until the client or the test ends it.
func s39ctVenue(t *testing.T, msgs []s39ctMsg) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		ctx := c.CloseRead(r.Context())
		for _, m := range msgs {
			typ := websocket.MessageText
			if m.binary {
				typ = websocket.MessageBinary
			}
			if err := c.Write(ctx, typ, m.data); err != nil {
				return
			}
		}
		<-ctx.Done()
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// s39ctRun is one venue parser fed by a handler: the frames it was handed
// (binary flag and bytes, copied), the events it published (rendered, the
// pooled event then returned), and its pools.
type s39ctRun struct {
	pools  *schema.Pools
	mu     sync.Mutex
	frames []string
	shown  []string
	events []*schema.CanonicalEvent // clones, for the receive-time check
	n      atomic.Int64             // frames handed over
	handle func(context.Context, *schema.WsFrame) error
}

func newS39ctRun(venue string, tap func(next func(context.Context, *schema.WsFrame) error) func(context.Context, *schema.WsFrame) error) *s39ctRun {
	r := &s39ctRun{pools: schema.NewPools(nil)}
	p := s25ctParsers[venue](r.pools.Events, r, nil)
	h := p.HandleFrame
	if tap != nil {
		h = tap(h)
	}
	r.handle = func(ctx context.Context, f *schema.WsFrame) error {
		r.mu.Lock()
		r.frames = append(r.frames, fmt.Sprintf("binary=%v %q", f.Binary, f.Data))
		r.mu.Unlock()
		defer r.n.Add(1)
		return h(ctx, f)
	}
	return r
}

// Publish is the parser's sink: it keeps the event's rendering and a
// clone, and returns the pooled event as a dispatcher would.
func (r *s39ctRun) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	r.mu.Lock()
	r.shown = append(r.shown, s25ctShow(ev))
	r.events = append(r.events, ev.Clone())
	r.mu.Unlock()
	r.pools.Events.Put(ev)
	return nil
}

// withoutReceiveTime is shown with each event's IngestTS, the receive
// time (the one field a new connection's read changes), zeroed.
func (r *s39ctRun) withoutReceiveTime() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.events))
	for i, ev := range r.events {
		c := ev.Clone()
		c.IngestTS = 0
		out[i] = s25ctShow(c)
	}
	return out
}

// client runs a wsclient on url into r until it was handed n frames, then
// closes it and checks its pools are whole.
func (r *s39ctRun) client(t *testing.T, url string, venue schema.Venue, n int) {
	t.Helper()
	c, err := wsclient.New(url, r.handle, &wsclient.Options{Venue: venue, Frames: r.pools.Frames, OnEvent: func(e wsclient.Event) {
		if e.Err != nil && e.Reason != wsclient.ReasonHandlerError {
			t.Logf("client: %+v", e)
		}
	}})
	require.NoError(t, err)
	ran := make(chan error, 1)
	go func() { ran <- c.Run(context.Background()) }()
	require.Eventually(t, func() bool { return r.n.Load() >= int64(n) }, s27ctWait, time.Millisecond, "%d frames of %d reached the handler", r.n.Load(), n)
	require.NoError(t, c.Close(context.Background()))
	s25ctRunEnded(t, <-ran)
	assert.Equal(t, int64(n), r.n.Load(), "no frame more than the venue sent")
}

// s39ctVenueMsgs returns every real message of testdata/venues of venue,
// in the order of their names, each as a text message; for venue binance
// also two binary messages, one not UTF-8, which the recorder keeps as
// base64 (recorder/doc.go: "anything else is base64") and the parser
// refuses alike live and replayed. (A text message that is not UTF-8
// never reaches the handler: the client reports it, ReasonInvalidFrame.)
func s39ctVenueMsgs(t *testing.T, venue string) []s39ctMsg {
	var out []s39ctMsg
	for _, s := range s25ctSamples(t) {
		if s.venue == venue {
			out = append(out, s39ctMsg{data: s.data})
		}
	}
	require.NotEmpty(t, out, venue)
	if venue == "binance" {
		out = append(out[:3:3], append([]s39ctMsg{
			{binary: true, data: []byte{0x00, 0xff, 0xfe, '{', '}', 0x80}},
			{binary: true, data: []byte(`{"e":"trade","E":1,"s":"BTCUSDT","t":7,"p":"1.00","q":"1","T":1,"m":true}`)},
		}, out[3:]...)...)
	}
	return out
}

// The recorder's promise (recorder/doc.go "Replaying": "The same parser
// thus gives the same canonical events as in the live run"; "Text
// messages that are valid UTF-8 are JSON strings and come back byte for
// byte; anything else is base64"; Replay's docstring: "a schema.WsFrame
// filled as the client fills it", "events keep their recorded IngestTS")
// and venuesim.Replay's ("Every connection ... is sent every received
// frame of the recording in order, text or binary as recorded"), for every
// venue's real messages, plain and zstd, in one file and rotated into
// parts (Options.MaxFileBytes; Open "reads the parts in order"):
//   - live: a loopback venue, wsclient, Recorder.Tap around the venue's
//     parser;
//   - recorder.Replay of the files into a fresh parser: the same frames,
//     byte for byte and kind for kind, and the same events, field for
//     field, receive time included;
//   - venuesim.StartReplay of the files, read by a new wsclient into a
//     fresh parser: the same frames and the same events but for the
//     receive time (a new read);
//   - every pooled frame and event back after each run.
func TestS39ctRecordingReplaysToTheSameEvents(t *testing.T) {
	venues := map[string]schema.Venue{"binance": schema.VenueBinance, "bybit": schema.VenueBybit, "coinbase": schema.VenueCoinbase, "kraken": schema.VenueKraken, "okx": schema.VenueOKX}
	names := make([]string, 0, len(venues))
	for name := range venues {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		venue := venues[name]
		for _, form := range []struct {
			name     string
			compress bool
			maxBytes int64
		}{
			{"plain", false, 0},
			{"zstd", true, 0},
			{"plain rotated", false, 2048},
			{"zstd rotated", true, 2048},
		} {
			t.Run(name+"/"+form.name, func(t *testing.T) {
				ctx := context.Background()
				msgs := s39ctVenueMsgs(t, name)
				url := s39ctVenue(t, msgs)
				dir := t.TempDir()
				path := filepath.Join(dir, "session.jsonl")
				if form.compress {
					path += ".zst"
				}
				rec, err := recorder.New(path, &recorder.Options{Venue: venue, URL: url, Compress: form.compress, MaxFileBytes: form.maxBytes})
				require.NoError(t, err)
				live := newS39ctRun(name, rec.Tap)
				live.client(t, url, venue, len(msgs))
				require.NoError(t, rec.Close())
				st := rec.Stats()
				assert.Equal(t, uint64(len(msgs)), st.Frames, "every frame recorded: %+v", st)
				assert.Zero(t, st.Dropped+st.WriteErrors, "%+v", st)
				parts, err := filepath.Glob(filepath.Join(dir, "*"))
				require.NoError(t, err)
				sort.Strings(parts)
				if form.maxBytes > 0 {
					require.Greater(t, len(parts), 1, "a recording of %d frames past %d bytes a file rotated: %v (%+v)", len(msgs), form.maxBytes, parts, st)
				}
				assert.Equal(t, len(parts), st.Files, "one file opened per part")
				require.NotEmpty(t, live.shown, "the live run made events")

				rd, err := recorder.Open(parts...)
				require.NoError(t, err)
				again := newS39ctRun(name, nil)
				rst, err := recorder.Replay(ctx, rd, again.handle, nil)
				require.NoError(t, err)
				require.NoError(t, rd.Close())
				assert.Equal(t, uint64(len(msgs)), rst.Frames)
				s39ctSame(t, live.frames, again.frames, "Replay hands over the frames as received, byte for byte")
				s39ctSame(t, live.shown, again.shown, "Replay: the same canonical events as in the live run")

				srv, err := venuesim.StartReplay(parts, nil)
				require.NoError(t, err)
				assert.Equal(t, len(msgs), srv.Frames())
				assert.Equal(t, venue, srv.Venue())
				assert.Equal(t, url, srv.RecordedURL())
				served := newS39ctRun(name, nil)
				served.client(t, srv.URL(), venue, srv.Frames())
				srv.Close()
				s39ctSame(t, live.frames, served.frames, "venuesim.StartReplay sends every frame, text or binary as recorded")
				s39ctSame(t, live.withoutReceiveTime(), served.withoutReceiveTime(), "the whole pipeline on the recording: the same events")

				for run, r := range map[string]*s39ctRun{"live": live, "Replay": again, "StartReplay": served} {
					sctx, cancel := context.WithTimeout(ctx, s27ctWait)
					assert.NoError(t, r.pools.Shutdown(sctx), "%s: every pooled frame and event came back", run)
					cancel()
				}
			})
		}
	}
}

// s39ctSame asserts two renderings are the same, naming the first that
// differs rather than printing both whole.
func s39ctSame(t *testing.T, want, got []string, what string) {
	t.Helper()
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			t.Errorf("%s: #%d of %d differs:\nwant %s\ngot  %s", what, i, len(want), want[i], got[i])
			return
		}
	}
	if len(want) != len(got) {
		t.Errorf("%s: %d, want %d (the first %d the same)", what, len(got), len(want), min(len(want), len(got)))
	}
}
