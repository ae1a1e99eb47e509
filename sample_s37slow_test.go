package meltica_test

// s37slowRaceStride: under the race detector the broad parser mutation
// tests (TestS29ctMutatedValuesAreRefusedOrHarmless, ...UnknownMembers...,
// the s29ctEveryLeafAs family, TestS33ctDecimalSpellingsSameOrRefused) try
// one case in this many. Their parser runs on the test's goroutine alone,
// where the detector has nothing to find; they were a third of the root
// package's race run (about 200 of 595 s at load 18). Without it (CI's
// coverage step, -short included) every case runs, as before.
const s37slowRaceStride = 16

// s37slowSampled says whether to try the case of a broad mutation loop
// at leaf (or object) index leaf and value index val: every case without
// the race detector (or with S29CT_FULL=1), one in s37slowRaceStride under
// it — the sum of the two indexes, so that every value is tried over the
// leaves.
func s37slowSampled(leaf, val int) bool {
	return !s29ctThin() || (leaf+val)%s37slowRaceStride == 0
}
