// Package schema defines Meltica's canonical types: the frame a connection
// reads ([WsFrame]), a venue message split out of its envelope
// ([ProviderRaw]), the canonical event every venue is normalised into
// ([CanonicalEvent]), the cross-venue view ([MergedEvent]), and the order
// path ([OrderRequest], [ExecReport]). Prices and quantities are [Decimal]s
// that keep the venue's digits. Account updates are events too:
// [EventBalance] with its [Balance] section (one asset) and [EventPosition]
// with its [Position] section (one derivatives position), critical like
// execution reports.
//
// Every type embeds [pool.Header] and so can live in a [pool.Pool]; [Pools]
// builds one pool of each. Reset zeroes every field and keeps the capacity of
// the slices a type owns; Clone makes an independent heap copy that no pool
// accepts. None of the types is safe for concurrent mutation: an object has
// one owner at a time (see the module documentation for who, when).
package schema
