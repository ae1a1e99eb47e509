package continuity

// Rule names a venue's continuity rule (see the package doc for each).
type Rule uint8

// The rules.
const (
	// None checks nothing: every message is Continuous (Kraken, whose
	// checksum does the job; a Coinbase book).
	None Rule = iota
	// Binance: U/u against the snapshot's lastUpdateId, then U (spot) or
	// pu (USDⓈ-M, COIN-M: a diff that carries pu) chaining.
	Binance
	// OKX: prevSeqId = previous seqId, with keep-alives and resets.
	OKX
	// Bybit: u = previous u + 1; u = 1 restarts, unless the cross
	// sequence seq says it is older than the stream's data.
	Bybit
	// Coinbase: Advanced Trade sequence_num, + 1 per message of a
	// connection.
	Coinbase
)

// Blind reports whether the rule cannot tell from the next message that
// one was lost: Kraken's books carry no ids, and Coinbase's sequence_num
// counts frames, which the parser checks before it decodes their
// messages. A book message such a venue sent but the parser dropped (a
// malformed one) must be marked lost where it is dropped.
func (r Rule) Blind() bool { return r == None || r == Coinbase }

var ruleNames = [...]string{None: "none", Binance: "binance", OKX: "okx", Bybit: "bybit", Coinbase: "coinbase"}

// String returns the rule's name.
func (r Rule) String() string {
	if int(r) < len(ruleNames) {
		return ruleNames[r]
	}
	return "unknown"
}

// IDs are the sequence ids a message carries, as schema.Book holds them;
// 0 is "not sent".
type IDs struct {
	First uint64 // Binance U
	Last  uint64 // Binance u, OKX seqId, Bybit u, Coinbase sequence_num
	Prev  uint64 // Binance USDⓈ-M/COIN-M pu, OKX prevSeqId
	// Cross is Bybit's seq, the cross sequence: the order in which the
	// venue generated the data, comparable across the views of a symbol
	// and never started again by a restart of the service ("for the
	// smaller seq, then it means the data is generated earlier", Bybit v5
	// "Orderbook"; normalize's Bybit parser reads it from each orderbook
	// message, whose events do not carry it). 0: not sent (options'
	// books), or another venue.
	Cross uint64
}

// Verdict is what a message is to its stream.
type Verdict uint8

// Verdicts.
const (
	// Continuous: the message continues the stream: apply it and Accept it.
	Continuous Verdict = iota
	// Repeat: the stream already covered the message's ids (a venue's
	// resend, the overlap of a connection rotation, a diff older than the
	// snapshot). Stale: drop it and count it; it is never a gap and never
	// a reason to resynchronise.
	Repeat
	// Gap: messages between the last one accepted and this one were lost.
	Gap
	// Restart: the venue started its numbering again and says so (Bybit
	// u = 1): the message is snapshot data; Accept it as the new start.
	Restart
)

var verdictNames = [...]string{Continuous: "continuous", Repeat: "repeat", Gap: "gap", Restart: "restart"}

// String returns the verdict's name.
func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "unknown"
}

// Result is the verdict on one message.
type Result struct {
	Verdict Verdict
	// MissingFirst and MissingLast are the ids lost, for a Gap, when the
	// rule can tell (both 0 when it cannot). Venues whose ids are not
	// consecutive (Binance derivatives, OKX) name the range, not a count.
	MissingFirst, MissingLast uint64
	// KeepAlive: a Continuous message that changes nothing (OKX: no
	// levels, prevSeqId = seqId).
	KeepAlive bool
	// Renumbered: a Continuous message after which the venue's ids start
	// again lower (OKX: seqId < prevSeqId after maintenance).
	Renumbered bool
}

// Stream is the continuity state of one stream. Its zero value knows
// nothing (set Rule before use); it allocates nothing and is not safe for
// concurrent use: its owner serialises the calls, as messages of one
// stream are.
type Stream struct {
	Rule   Rule
	last   uint64 // Last of the message accepted last, or the snapshot's
	era    uint64 // first id of the current numbering
	known  bool   // last means something
	joined bool   // Binance: a diff was accepted since the snapshot
	// from is where the run of messages Step accepted with no gap since
	// the stream last (re)started begins: the first id of its first
	// message, or a snapshot's last id + 1 (Join).
	from uint64
	// cross is the highest IDs.Cross the stream took (accepted or a
	// snapshot's): the newest data it holds or held. Kept by Reset and
	// Snapshot: the venue never numbers its cross sequence again, so data
	// generated before it is older than a book the stream already served.
	cross uint64
}

// Reset forgets everything but the newest cross sequence taken (Older):
// the next message starts the stream (a new connection for Coinbase, an
// invalidated book).
func (s *Stream) Reset() { *s = Stream{Rule: s.Rule, cross: s.cross} }

// Snapshot starts the stream at a snapshot whose last id is last (Binance
// lastUpdateId, OKX seqId, Bybit u): the next message must continue it.
//
// A snapshot at or past the stream's position continues its numbering (a
// resubscription, or the new connection of a make-before-break rotation,
// whose old connection keeps delivering for a while): the ids from the
// stream's position up to the snapshot stay covered, so the old
// connection's messages still in flight are a Repeat, not a Gap. Ids
// below the stream's position are not covered (a numbering started again
// without the message that says so lands there).
func (s *Stream) Snapshot(last uint64) {
	era := last
	if s.known && s.era <= s.last && s.last <= last {
		era = s.last
	}
	*s = Stream{Rule: s.Rule, last: last, era: era, known: true, from: last + 1, cross: s.cross}
}

// SnapshotOf is Snapshot(id.Last) for a snapshot message, which also
// records its cross sequence (IDs.Cross) as data the stream took.
func (s *Stream) SnapshotOf(id IDs) {
	s.Snapshot(id.Last)
	s.cross = max(s.cross, id.Cross)
}

// Older reports whether a message was generated before data the stream
// already took, by the venue's cross sequence (IDs.Cross, Bybit seq: "for
// the smaller seq, then it means the data is generated earlier", Bybit v5
// "Orderbook"): a late copy — the old connection's of a rotation, a
// level-1 snapshot pushed again before a change, a frame delivered twice
// — never the book now. False when the message or the stream has no
// cross sequence; an equal one is the same data (a copy of the message
// the stream took last, or an unchanged book pushed again), not older.
func (s *Stream) Older(id IDs) bool { return id.Cross != 0 && id.Cross < s.cross }

// Join starts the stream at a snapshot handed over while its messages
// run (Binance's REST snapshot, fetched while the diff stream goes on:
// "How to manage a local order book correctly"). When the messages Step
// accepted since the stream last (re)started run with no gap from at
// most last+1 to at least last, they already hold every change after the
// snapshot — their host applies them on top of it — and the stream
// carries on: restarted at last, the next message would read as a gap
// over messages delivered. Otherwise it is Snapshot(last).
func (s *Stream) Join(last uint64) {
	if s.known && s.joined && s.from <= last+1 && last <= s.last {
		return
	}
	s.Snapshot(last)
}

// Known reports whether the stream has a position (a snapshot or an
// accepted message since the last Reset).
func (s *Stream) Known() bool { return s.known }

// Last returns the last id accepted (or the snapshot's), 0 when unknown.
func (s *Stream) Last() uint64 { return s.last }

// Step checks a message and, unless it is a Repeat, accepts it: after a
// Gap or a Restart the stream follows on from this message. It is the
// parser's call; a book, which must not move on past a gap, uses Check and
// Accept.
func (s *Stream) Step(id IDs) Result {
	r := s.Check(id)
	if r.Verdict != Repeat {
		if !s.known || r.Verdict != Continuous {
			// A run starts: the stream's first message, or one after a
			// gap or a restart.
			s.from = id.First
			if s.from == 0 {
				s.from = id.Last
			}
		}
		s.Accept(id)
	}
	return r
}

// Accept records a message as the stream's last one. Messages without
// ids leave the stream as it was.
func (s *Stream) Accept(id IDs) {
	s.cross = max(s.cross, id.Cross)
	if id.Last == 0 && s.Rule != Coinbase {
		return
	}
	if !s.known || id.Last < s.last {
		s.era = id.Last // the numbering started (again) here
	}
	s.last, s.known, s.joined = id.Last, true, true
}

// Check classifies a message against the stream; it changes nothing.
func (s *Stream) Check(id IDs) Result {
	switch s.Rule {
	case Binance:
		return s.binance(id)
	case OKX:
		return s.okx(id)
	case Bybit:
		return s.bybit(id)
	case Coinbase:
		return s.next(id)
	}
	return Result{}
}

func gap(first, last uint64) Result {
	if first > last {
		first, last = 0, 0
	}
	return Result{Verdict: Gap, MissingFirst: first, MissingLast: last}
}

var repeat = Result{Verdict: Repeat}

// covered reports whether last is an id the current numbering already
// passed: a repeat, never a restart in disguise.
func (s *Stream) covered(last uint64) bool { return last <= s.last && last >= s.era }

func (s *Stream) binance(id IDs) Result {
	if id.Last == 0 || !s.known {
		return Result{}
	}
	L := s.last
	futures := id.Prev != 0
	if !s.joined { // the first diff after the snapshot
		switch {
		case id.Last < L, !futures && id.Last == L:
			return repeat // covered by the snapshot
		case futures && (id.Prev == L || id.First <= L):
			return Result{} // U ≤ L ≤ u, or chained to L
		case !futures && id.First <= L+1:
			return Result{} // U ≤ L+1 ≤ u
		}
		return gap(L+1, id.First-1) // the snapshot is older than the stream
	}
	switch {
	case id.Last <= L:
		// Binance's ids never start again, and its docs say to ignore an
		// event whose u is below the local book's update id, however old
		// (one from before the snapshot included): a Repeat.
		return repeat
	case futures && id.Prev == L, !futures && id.First <= L+1:
		return Result{}
	case futures:
		return gap(L+1, id.Prev)
	}
	return gap(L+1, id.First-1)
}

func (s *Stream) okx(id IDs) Result {
	if id.Last == 0 || id.Prev == 0 || !s.known {
		return Result{}
	}
	L := s.last
	switch {
	case id.Prev == L:
		return Result{KeepAlive: id.Last == id.Prev, Renumbered: id.Last < id.Prev}
	case id.Last == L:
		return repeat // the message applied last, again
	case id.Prev <= id.Last && s.covered(id.Last) && (id.Prev >= s.era || id.Last == s.era):
		// An older message of the current numbering, or the one that
		// reached its first id (the last before a snapshot).
		return repeat
	case id.Last < id.Prev && id.Last == s.era:
		return repeat // the reset that began the current numbering, again
	}
	return gap(L+1, id.Prev)
}

func (s *Stream) bybit(id IDs) Result {
	switch {
	case id.Last == 0:
		return Result{}
	case id.Last != 1:
		return s.next(id)
	case s.Older(id):
		// A u = 1 generated before data the stream took (its cross
		// sequence lower): the restart the stream already took (or an
		// earlier one), its snapshot pushed again or delivered late by a
		// rotation's other connection, a frame twice. Taken for a
		// restart, it would roll the book back to that older state and
		// serve it as live.
		return repeat
	}
	// u = 1 is the service's restart (Bybit docs): snapshot data. Once
	// the numbering passed 1, a u = 1 no older than the stream's data is a
	// second restart, not a repeat: taken for one, it and every later
	// delta (u = 2, 3, … all "covered") would be dropped and the book
	// would stall, silently. The restart message again (the same cross
	// sequence, or none sent) is loaded again: the same data, the same
	// book.
	return Result{Verdict: Restart}
}

// next is the rule of a counter: each message is the previous + 1.
func (s *Stream) next(id IDs) Result {
	switch {
	case !s.known, id.Last == s.last+1:
		return Result{}
	case s.covered(id.Last):
		return repeat
	}
	return gap(s.last+1, id.Last-1)
}
