package recorder_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
)

// NextPart names the part a Recorder writes after a given one, as it
// names them, and nothing for a name it would not give that part.
func TestS27NextPart(t *testing.T) {
	files := recordParts(t)
	require.Greater(t, len(files), 2)
	for i := range files[:len(files)-1] {
		assert.Equal(t, files[i+1], recorder.NextPart(files[i], i+1))
	}
	assert.Equal(t, "d/r-000002.jsonl.zst", recorder.NextPart("d/r-000001.jsonl.zst", 1), "compressed")
	assert.Equal(t, "d/r-000010.jsonl", recorder.NextPart("d/r-000009.jsonl", 9))
	assert.Empty(t, recorder.NextPart("r.jsonl", 0), "a single-file recording")
	assert.Empty(t, recorder.NextPart("renamed.jsonl", 1))
	assert.Empty(t, recorder.NextPart("r-000001.jsonl", 2), "not part 2's name")
}
