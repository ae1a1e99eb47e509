package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestS38rvciListsEveryWayATestChecksMoreWithoutRace writes a test package
// whose tests reach the race-mode difference each way a test file can, and
// asserts the lister names exactly those tests.
func TestS38rvciListsEveryWayATestChecksMoreWithoutRace(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"race_test.go":   "//go:build race\n\npackage p\n\nconst raceEnabled = true\n\nfunc TestOnlyRace(t *testing.T) {}\n",
		"norace_test.go": "//go:build !race\n\npackage p\n\nconst raceEnabled = false\n",
		// A helper built only without race, with a race twin that does less.
		"allocs_norace_test.go": "//go:build !race\n\npackage p\n\nfunc checkAllocs(t *testing.T) { t.Log(\"counts\") }\n",
		"allocs_race_test.go":   "//go:build race\n\npackage p\n\nfunc checkAllocs(t *testing.T) {}\n",
		"a_test.go": `package p

import "testing"

func TestHelperInNoRaceFile(t *testing.T) { checkAllocs(t) }

type harness struct{}

func (harness) rounds() int {
	if raceEnabled {
		return 1
	}
	return 100
}

func TestMethod(t *testing.T) { var h harness; _ = h.rounds() }

var cases = []func(){func() { _ = raceEnabled }}

func TestVarOfClosures(t *testing.T) { _ = cases }

func TestClosure(t *testing.T) {
	f := func() bool { return !raceEnabled }
	_ = f
}

func TestSame(t *testing.T) {}

func Exported() bool { return raceEnabled }
`,
		// A constraint on another tag, true here, false with every tag set.
		"other_test.go":       "//go:build !meltica_never_set\n\npackage p\n\nfunc TestOtherTag(t *testing.T) { _ = raceEnabled }\n\nfunc TestOtherTagSame(t *testing.T) {}\n",
		"only_norace_test.go": "//go:build !race\n\npackage p\n\nfunc TestInNoRaceFile(t *testing.T) {}\n",
		// The external test package reaches the internal one's helper.
		"x_test.go": "package p_test\n\nimport \"p\"\n\nfunc TestExternal(t *testing.T) { _ = p.Exported() }\n\nfunc TestExternalSame(t *testing.T) {}\n",
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600))
	}
	got, err := list(dir)
	require.NoError(t, err)
	require.Equal(t, []string{
		"TestClosure", "TestExternal", "TestHelperInNoRaceFile", "TestInNoRaceFile",
		"TestMethod", "TestOtherTag", "TestVarOfClosures",
	}, got)
}
