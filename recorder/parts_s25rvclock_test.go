package recorder_test

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
)

// A part's header time is the wall clock at its rotation (time.Now, no
// monotonic reading), which an NTP step may set back between two parts:
// the recording is still whole and in order (Part n+1 after n, one URL),
// and must be read. The parts' order was also checked against those
// times, refusing it as "a part is missing or out of order".
func TestS25rvPartsAfterAClockStepBack(t *testing.T) {
	files := recordParts(t)
	// The second part's header an hour earlier than the first's.
	b, err := os.ReadFile(files[1])
	require.NoError(t, err)
	nl := bytes.IndexByte(b, '\n')
	stamp := regexp.MustCompile(`"t":(\d+)`)
	m := stamp.FindSubmatch(b[:nl])
	require.NotNil(t, m, "%s", b[:nl])
	ns, err := strconv.ParseInt(string(m[1]), 10, 64)
	require.NoError(t, err)
	hdr := stamp.ReplaceAll(b[:nl], []byte(`"t":`+strconv.FormatInt(ns-3600e9, 10)))
	require.NoError(t, os.WriteFile(files[1], append(hdr, b[nl:]...), 0o666))

	r, err := recorder.Open(files...)
	require.NoError(t, err)
	defer r.Close()
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		n++
	}
	require.Equal(t, 40, n)
}
