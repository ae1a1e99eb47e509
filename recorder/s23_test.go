package recorder_test

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
)

// Review s23: a zstd part cut short (a recorder killed mid-write) is
// reported, and a reader that goes on past errors reaches the next part,
// as for a plain part (TestAdv2TornLineReportedOnce): every cut of the
// first part is tried.
func TestS23TornZstdPartGoesOn(t *testing.T) {
	dir := t.TempDir()
	whole := encode(t, true, recorder.Line{Time: 1, Conn: 1, Seq: 1, Text: "a"}, recorder.Line{Time: 2, Conn: 1, Seq: 2, Text: "b"})
	next := filepath.Join(dir, "next.jsonl")
	writeFile(t, next, encode(t, false, recorder.Line{Time: 3, Conn: 2, Seq: 1, Text: "c"}))
	head := len(encode(t, true)) // the header alone: a cut before it is refused by Open
	for cut := head; cut < len(whole); cut++ {
		torn := filepath.Join(dir, "torn.jsonl.zst")
		writeFile(t, torn, whole[:cut])
		r, err := recorder.Open(torn, next)
		if err != nil {
			continue
		}
		var got []string
		var errs []error
		for range 50 { // a loop that skips bad lines
			l, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			got = append(got, l.Text)
		}
		r.Close()
		require.NotEmpty(t, got, "cut at %d", cut)
		assert.Equal(t, "c", got[len(got)-1], "cut at %d: the next part never reached (%d errors: %v)", cut, len(errs), errs)
		assert.LessOrEqual(t, len(errs), 1, "cut at %d: %v", cut, errs)
	}
}
