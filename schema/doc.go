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
// the slices a type owns (a [CanonicalEvent]'s out-of-line sections: it
// zeroes those its pool storage handed out and sets the pointers to nil);
// Clone makes an independent heap copy that no pool accepts. None of the types is safe for concurrent mutation: an object has
// one owner at a time (see the module documentation for who, when).
//
// The eight out-of-line sections of a [CanonicalEvent] are one table in
// this package: a set of them is a [Sections] (what an event carries,
// [CanonicalEvent.Carried]; let go, [CanonicalEvent.Drop]; copied,
// [CanonicalEvent.CopyCarriedTo]), read without a nil check through
// the readers that read an absent section as zero ([CanonicalEvent.GapType],
// [CanonicalEvent.KlineInterval], [CanonicalEvent.TickerWindow],
// [CanonicalEvent.ControlOrZero], ...). An event that is not pooled keeps
// storage for its sections with [CanonicalEvent.KeepSections] or
// [NewReusableEvent] (a scratch event decoded into again and again), and
// [CanonicalEvent.CopyInto] copies an event into one whose Raw and book
// levels it reuses.
//
// # Cost of an event's pool cycle
//
// Issue #15 asked that Reset clear what was set rather than every section.
// The compact event's Reset zeroes the common fields, Trade, BBO and Book
// (240 bytes then; 191 since session 47's 9-byte Decimal) and only the
// kept sections handed out; the old one zeroed
// all 1,928 bytes. Fill and Reset of a pooled event, old (main c7db293b,
// every section by value) against new, interleaved, on the shared 2-core
// box under load (load average 13 to 15, hence the spread), medians:
//
//	                             old        new        change
//	PooledEventReset/trade       137 ns     37 ns      -73% (p=0.002 n=6)
//	PooledEventReset/bookdiff    175 ns     86 ns      -51% (p=0.002 n=6)
//	PooledEventReset/exec        125 ns     64 ns      -48% (p=0.002 n=6)
//	EventReset (trade, by hand)  146 ns     37 ns      -75% (p=0.002 n=6)
//	PooledEventCycle/bookdiff    520 ns    334 ns      -36% (p=0.002 n=6)
//	PooledEventCycle/trade, /exec: within the noise of the pool's Put and Get
//
// 0 allocations in every case. The command (old.test built from a worktree
// of c7db293b with the same reset_bench_test.go, &ev.Exec for
// ev.UseExec()):
//
//	for i in 1 2 3 4 5 6; do
//	  old.test -test.run '^$' -test.bench 'Pooled|EventReset' -test.benchmem >>old.txt
//	  new.test -test.run '^$' -test.bench 'Pooled|EventReset' -test.benchmem >>new.txt
//	done; benchstat old=old.txt new=new.txt
package schema
