package schema_test

// volume is how many random cases a volume test draws: n, or a tenth of it
// under the race detector (see race_on_s39ci_test.go). Under -race these
// tests took 370 s of the package's 521 s of test time at load 22
// (go test -race -json ./schema, 200,000 parses against math/big alone
// 153 s); the cases are single-goroutine arithmetic, which the race
// detector has nothing to say about, and CI draws them all without it.
func volume(n int) int {
	if raceEnabled {
		return n / 10
	}
	return n
}
