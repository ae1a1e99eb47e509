// Package continuity holds each venue's rule for whether a sequenced
// message continues its stream, repeats what the stream already covered,
// follows lost messages, or starts the venue's numbering again. The
// parsers in package normalize (gap markers) and the books in
// normalize/book (invalidation and resync) both decide with it, so the two
// can never disagree about what is a gap.
//
// # Use
//
// A [Stream] is the state of one stream: one (venue, symbol) book stream,
// or for Coinbase one connection. Its zero value knows nothing; set Rule
// before the first call. For each message:
//
//	r := s.Check(continuity.IDs{First: bk.FirstSeq, Last: bk.LastSeq, Prev: bk.PrevSeq})
//	switch r.Verdict {
//	case continuity.Continuous: // apply it, then s.Accept(ids)
//	case continuity.Repeat:     // stale: drop it and count it; no marker, no resync
//	case continuity.Gap:        // messages lost: r.MissingFirst..r.MissingLast when known
//	case continuity.Restart:    // the venue started its numbering again: the message is a snapshot
//	}
//
// [Stream.Step] is Check followed by Accept unless the message is a
// repeat: the one call a parser needs (after a gap it follows the stream
// from the new message on). A snapshot message, or a REST snapshot,
// calls [Stream.Snapshot] with its last id ([Stream.SnapshotOf] with its
// ids, which records a Bybit snapshot's cross sequence too); a new
// connection (Coinbase) or anything that makes the history unknown calls
// [Stream.Reset]. A stream that knows nothing takes any message as
// continuous: the first message of a stream cannot be a gap.
//
// Messages without ids (Last = 0, where the rule gives 0 no meaning: older
// OKX books, Kraken) are not checked: Continuous. A 0 is the venues'
// placeholder for "not sent" (OKX's prevSeqId -1 on a snapshot, which the
// parser leaves at 0, likewise).
//
// # In the parser
//
// Keep one Stream per book stream (per interned symbol), Rule set from the
// venue; Snapshot on each snapshot message; Step on each diff: a Gap
// becomes a gap marker (Control.GapFirstSeq/GapLastSeq from
// MissingFirst/MissingLast, 0 when unknown), a Repeat is dropped and
// counted (never a marker), a Restart is passed on (the book loads it as
// a snapshot). For Coinbase, keep one Stream per connection (the frame's
// ConnID), Reset it when the ConnID changes, Step every message's
// sequence_num, and on a Gap publish one marker with an empty Symbol and
// GapType schema.EventUnknown: normalize/book's Books invalidates every
// book of the venue on it.
//
// # The rules
//
// Binance (spot, USDⓈ-M and COIN-M; Binance API docs, "How to manage a
// local order book correctly", spot and derivatives editions). A diff
// carries U (First) and u (Last); a USDⓈ-M or COIN-M diff also carries pu
// (Prev), the u of the diff before it, and is chained by it; a spot diff
// has no pu and is chained by U.
//   - After the snapshot (lastUpdateId L): a diff with u < L (spot: u ≤ L)
//     is covered by the snapshot: Repeat. Spot: the first diff applied has
//     U ≤ L+1 ≤ u. Derivatives: it has U ≤ L ≤ u — so a diff whose u is
//     exactly L joins — or pu = L. A first diff with U past that is a Gap:
//     the snapshot is older than the stream, fetch another.
//   - Then: spot: U = previous u + 1 (U ≤ previous u + 1 is accepted, as
//     the docs' update step only refuses U > local id + 1); derivatives:
//     pu = previous u. A diff whose u is at most the previous u is a
//     Repeat, however old (one from before the snapshot included): the
//     docs ignore any event whose u is below the local book's id, and
//     Binance's ids never start again.
//
// OKX (OKX API v5 docs, "Order book channel", seqId/prevSeqId). An update
// carries seqId (Last) and prevSeqId (Prev, -1 on a snapshot, which the
// parser leaves at 0). prevSeqId = the previous seqId: Continuous. Two
// documented exceptions are continuous too: a keep-alive (no levels,
// prevSeqId = seqId = the previous seqId; Result.KeepAlive) and a reset
// after maintenance (seqId < prevSeqId, prevSeqId still the previous
// seqId; Result.Renumbered), after which ids continue from the new seqId.
// The message last applied, again, or an older one of the current
// numbering (prevSeqId ≤ seqId < the previous seqId), is a Repeat.
//
// Bybit (Bybit API v5 docs, "Orderbook", fields u and seq). A delta's u =
// previous u + 1. u = 1 is a Restart: "snapshot data due to the restart
// of the service", to overwrite the book with — unless it is older than
// the stream's data by its cross sequence seq (IDs.Cross: "for the
// smaller seq, then it means the data is generated earlier"): a u = 1
// whose seq is below the newest the stream took ([Stream.Older]) is a
// Repeat, a late copy of a restart the stream took — a rotation's overlap
// (the new connection's copies delivered after the old one's messages,
// or the old connection's late), a level-1 snapshot pushed again
// unchanged ("the field u will be the same as that in the previous
// message") delivered after a change, a frame delivered twice. Taken for
// a restart, such a copy rolls the book back to the restart's state and
// serves it as live. A u = 1 not older (newer data, the same seq — the
// restart message again, the same data loaded again — or no seq, as on
// options' books) is a Restart: a second restart taken for a repeat of
// the first would leave every later delta "covered" and the book
// silently stalled. The newest seq taken survives Reset and Snapshot:
// Bybit never numbers it again. Any other u at most the previous one is
// a Repeat; above previous u + 1, a Gap. Only a u = 1 is judged by seq:
// u orders the rest.
//
// Coinbase Advanced Trade (Advanced Trade WebSocket docs, "Sequence
// numbers": each message exactly one greater than the one before; more
// than one greater means messages were dropped; less can be ignored). The
// top-level sequence_num (Last) counts every message of a connection,
// whatever its channel, from 0. A jump is a lost message — a Gap of the
// whole connection: every book it fed is no longer trusted — and a number
// at most the previous is a Repeat. The parser keeps one Stream per
// connection and Resets it on a new connection; a book, which sees only
// its own product's messages, cannot apply this rule itself ([None]).
//
// Kraken has no sequence ids in its book messages: its CRC32 checksum over
// the top 10 levels is its continuity check (in normalize/book). [None].
//
// # Repeats never hide a restart
//
// A repeat is an id the stream already covered. Ids below the first id of
// the current numbering (the snapshot's — or, when a snapshot continues
// the stream, as a resubscription's or a connection rotation's does, the
// stream's position before it — or the one after a reset or restart) are
// not taken for repeats but for a Gap — except Binance's,
// whose ids never start again and whose docs say to drop any diff older
// than the local book: a venue that started
// its numbering again without the message that says so would otherwise
// have every later message dropped as "already covered", and the book
// would go silently stale. A spurious resync costs a snapshot; a silent
// stall costs money.
package continuity
