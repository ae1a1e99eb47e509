package wsclient

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// abaRotation: the old connection delivers oldFrames during the overlap
// (a venue repeating an unchanged message, not consecutively: a, b, a);
// the new connection then sends newFrames. It returns what the handler got and
// the events.
func abaRotation(t *testing.T, oldFrames, newFrames []string) ([]string, *harness) {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	opts := rotationOptions()
	opts.MaxAge, opts.RotationOverlap = 0, s36rotOverlap
	h := start(t, v.url(), opts, &sink{}, leaks)
	liveConn1(t, h)
	require.Equal(t, 1, recvWait(t, subscribed, "connection 1 dialled"))
	require.Eventually(t, func() bool { return len(v.received(1)) == len(testSubs) }, wait, time.Millisecond, "connection 1 subscribed")
	require.NoError(t, v.session(1).send(`{"z":0}`))
	h.sink.waitFor(t, `{"z":0}`)
	require.NoError(t, h.c.Rotate())
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 dialled"))
	require.Eventually(t, func() bool { return len(v.received(2)) == len(testSubs) }, wait, time.Millisecond, "connection 2 subscribed")
	require.NoError(t, v.session(1).send(oldFrames...))
	// Every frame, counted: waitFor looks for each message once, and the
	// copies of a repeated one (a, b, a) would not all be waited for.
	want := append([]string{`{"z":0}`}, oldFrames...)
	require.Eventually(t, func() bool { return len(h.sink.got()) >= len(want) }, wait, time.Millisecond,
		"connection 1 delivered its frames; got %v", h.sink.got())
	require.Equal(t, want, h.sink.got())
	require.NoError(t, v.session(2).send(newFrames...))
	require.NoError(t, v.session(2).send(`{"end":1}`))
	require.Eventually(t, func() bool {
		got := h.sink.got()
		return len(got) > 0 && got[len(got)-1] == `{"end":1}`
	}, wait, time.Millisecond, "connection 2 delivered its frames; got %v, events %v", h.sink.got(), h.rec.all())
	got := h.sink.got()
	h.finish(v)
	return got, h
}

// A join on a message the old connection delivered more than once, apart
// (a, b, a: a venue repeating an unchanged ticker), is ambiguous: the new
// connection's a may be either copy. Its next frames decide: repeats of
// what followed one of the copies are skipped, the first frame that
// repeats none is new. Nothing is lost or repeated, and no loss is
// reported. Before s38ws the join was taken at the newest copy: a new
// connection at the first one delivered b and a twice, unannounced.
func TestS38wsABAJoin(t *testing.T) {
	a, b, c, d, z, end := `{"a":1}`, `{"b":1}`, `{"c":1}`, `{"d":1}`, `{"z":0}`, `{"end":1}`
	for name, tc := range map[string]struct {
		old, sent []string
	}{
		"level":              {[]string{a, b, a}, []string{a, c}},
		"behind":             {[]string{a, b, a}, []string{a, b, a, c}},
		"level, a next":      {[]string{a, b, a}, []string{a, a, c}},
		"middle of three":    {[]string{a, b, a, d, a}, []string{a, d, a, c}},
		"first of three":     {[]string{a, b, a, d, a}, []string{a, b, a, d, a, c}},
		"behind, more after": {[]string{a, b, a, d}, []string{a, b, a, d, c}}, // before s38ws: b, a twice, then ErrRotationUnaligned at d
	} {
		t.Run(name, func(t *testing.T) {
			got, h := abaRotation(t, tc.old, tc.sent)
			want := append(append([]string{z}, tc.old...), c, end)
			if name == "level, a next" {
				want = append(append([]string{z}, tc.old...), a, c, end)
			}
			require.Equal(t, want, got)
			require.Zero(t, h.rec.count(func(ev Event) bool {
				return errors.Is(ev.Err, ErrRotationUnaligned) || errors.Is(ev.Err, ErrRotationDropped)
			}), "events %v", h.rec.all())
		})
	}
}
