package normalize

// raceSpans returns spans, or under the race detector (where mutating each
// of a 55 KB book snapshot's first 1,000 scalars, parsing the whole
// snapshot each time, took most of TestS29rvPricesRefused's 10 minutes on
// a loaded machine) at most about n of them spread over the whole
// document: the first and last edge spans in a row (every field of the
// first and last levels, the header's fields) and between them every
// stride-th span, the stride prime to 2, 3 and 5 so that the sample walks
// through every column of a level ([price, qty], [price, qty, ts],
// OKX's 4 fields) and every side (bids and asks) of a book.
func raceSpans(spans [][2]int, n int) [][2]int {
	const edge = 24
	if !raceEnabled || len(spans) <= n {
		return spans
	}
	stride := (len(spans)-2*edge)/(n-2*edge) + 1
	for stride%2 == 0 || stride%3 == 0 || stride%5 == 0 {
		stride++
	}
	out := append([][2]int(nil), spans[:edge]...)
	for i := edge; i < len(spans)-edge; i += stride {
		out = append(out, spans[i])
	}
	return append(out, spans[len(spans)-edge:]...)
}
