package wsclient

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// The ambiguous join's places (candidates) at its bounds: the old
// connection delivered more frames than the ring holds (301: a, b, ...,
// a, the ring wrapped, 128 copies of a in it, the oldest place at the
// ring's first slot), and a run at the ring's end with an older copy
// before it (a, b, a, a: places inside the run and apart). The new
// connection's repeats are skipped, its first new frame delivered, no
// loss reported, and nothing panics at the ring's size.
func TestS38rvwsABAJoinBounds(t *testing.T) {
	a, b, c, z, end := `{"a":1}`, `{"b":1}`, `{"c":1}`, `{"z":0}`, `{"end":1}`
	wrapped := make([]string, 0, 301)
	for i := range 301 {
		wrapped = append(wrapped, [2]string{a, b}[i%2])
	}
	for name, tc := range map[string]struct {
		old, sent []string
	}{
		"wrapped, level":      {wrapped, []string{a, c}},
		"wrapped, behind":     {wrapped, []string{a, b, a, b, a, c}},
		"wrapped, far behind": {wrapped, append(append([]string(nil), wrapped[len(wrapped)-255:]...), c)}, // from the oldest place the ring keeps
		"run, behind":         {[]string{a, b, a, a}, []string{a, b, a, a, c}},
		"run, in it":          {[]string{a, b, a, a}, []string{a, a, c}},
	} {
		t.Run(name, func(t *testing.T) {
			got, h := abaRotation(t, tc.old, tc.sent)
			want := append(append([]string{z}, tc.old...), c, end)
			require.Equal(t, want, got)
			require.Zero(t, h.rec.count(func(ev Event) bool {
				return errors.Is(ev.Err, ErrRotationUnaligned) || errors.Is(ev.Err, ErrRotationDropped)
			}), "events %v", h.rec.all())
		})
	}
}
