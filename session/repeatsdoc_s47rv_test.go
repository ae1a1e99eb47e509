package session

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxRepeats' doc gives the bytes a remembered report takes ("Each takes N
// bytes (seenEntry, amd64)"), which bound a private connection's memory.
// It said 520, the 16-byte Decimal's size, after schema.Execution shrank
// with the 9-byte Decimal (session 47).
func TestS47rvRepeatsDocEntrySize(t *testing.T) {
	t.Parallel()
	if runtime.GOARCH != "amd64" {
		t.Skip("the doc's number is amd64's")
	}
	src, err := os.ReadFile("repeats.go")
	require.NoError(t, err)
	text := strings.Join(strings.Fields(strings.ReplaceAll(string(src), "//", "")), " ")
	assert.Contains(t, text, fmt.Sprintf("Each takes %d bytes (seenEntry, amd64)", unsafe.Sizeof(seenEntry{})))
	assert.Less(t, uintptr(maxRepeats)*unsafe.Sizeof(seenEntry{}), uintptr(10<<20), "under 10 MB at the bound")
}
