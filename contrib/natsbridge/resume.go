package natsbridge

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/meltica/meltica/schema"
)

// The durable consumer of execution reports can vanish under a running
// Consumer: an operator deletes it, its stream is deleted and created
// again (to change a field the server will not update), or a memory
// stream is lost with its server. nats.go's Consume stops for good on
// "consumer deleted" and only reports missed heartbeats when its
// consumer is gone without a word; nothing makes it again (people hit it:
// centrifugal/centrifugo#1166, nats-io/nats.go#1729). Reports would stop
// without a sign. So the Consumer watches Consume's errors and, when one
// may mean its consumer is gone, looks: a consumer that is gone is made
// again where this one was in the stream — after the last report handled,
// or at the first handed back and not handled since, or at the first
// below the last handled that was not handled here (seqGaps) — or from the
// start of a stream that is not the one it read (created again: the
// sequences start over); a Consume that stopped is started again.
// Reports handed on already that come again are dropped by their ids
// (ConsumerOptions.Dedup). Tries are retried with capped backoff until
// they succeed or Close.

// execPullExpiry is how long one pull request of the durable consumer
// lives. nats.go asks for heartbeats every half of it and reports their
// absence after two missed: a consumer gone without a word (its stream
// lost with a server) is noticed in 10 s rather than nats.go's 30 s.
const execPullExpiry = 10 * time.Second

// resumeTimeout bounds one try's requests to the server.
const resumeTimeout = 5 * time.Second

// stalledAfter is how long tries to make the durable consumer deliver
// again fail before the host is told (tellStalled): past a server's
// restart, whose JetStream may refuse for a few seconds after the link
// is back (the link's own states told that).
const stalledAfter = 2 * execPullExpiry

// execResume is the goroutine that makes the durable consumer deliver
// again. js is set before the first Consume (consumeExec), the other
// fields once by startResume.
type execResume struct {
	js      jetstream.JetStream
	created time.Time     // when the stream read was created: another time is another stream
	trouble chan struct{} // capacity 1: Consume reported an error that may mean its consumer is gone
	stopped chan struct{} // capacity 1: Consume stopped on its own (a terminal error)
	relink  chan struct{} // capacity 1, made with the Consumer (the watcher signals it from the start): the connection is back after a loss (see redeliverLost)
	naked   chan struct{} // capacity 1, made with the Consumer: a report handed back may have been removed (nakedPassed)
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{} // closed when the goroutine has exited
	failed  lossCounter   // failed tries, logged at the first and each doubling
	told    bool          // the host was told the reports stopped (tellStalled), since the last try that succeeded
	// consCreated: when the durable consumer read was created; another
	// time on the same stream is a consumer made again by another
	// (execReplayTo).
	consCreated time.Time
}

func (c *Consumer) startResume(created time.Time) {
	r := &c.execResume
	r.created = created
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.done = make(chan struct{})
	go c.resumeLoop()
}

// stop ends the goroutine and waits for it; a no-op when none was started.
func (r *execResume) stop() {
	if r.done == nil {
		return
	}
	r.cancel()
	<-r.done
}

// execTrouble is Consume's error handler (on a goroutine of nats.go's).
//
// A pull refused for a request limit of the durable consumer (409
// "Exceeded MaxRequestBatch of n", "Exceeded MaxRequestExpires of d",
// "Exceeded MaxRequestMaxBytes of n", "Exceeded MaxWaiting": nats-server
// consumer.go processNextMsgRequest; nats.js ExceededLimits) is a plain
// error to nats.go, which does not count the pull back: the Consume asks
// for nothing more until its heartbeats are missed, and then the same
// pull again — the reports stall for good. One comes when an operator
// changed the limits under a running Consumer: the resumer starts the
// Consume again within the limits read anew (pullLimits).
//
// What else nats.go v1.55.0 hands it (jetstream/pull.go Consume,
// handleStatusMsg; message.go checkMsg), and what is done:
//   - ErrConsumerDeleted (409 "Consumer Deleted": the durable consumer,
//     or its stream, deleted while a pull of it waited on the server) and
//     ErrBadRequest (400): nats.go stops the Consume; it is started again.
//   - nats.ErrNoResponders (503): a pull reached no one — the durable
//     consumer is gone (deleted, or its stream, while no pull of it
//     waited: none waits while reports are in hand up to the pull's cap;
//     a memory stream lost with its server) or the server's JetStream is
//     off or not up yet. nats.go counts the pull as waiting and asks for
//     nothing more until its heartbeats are missed (two of them, 10 s):
//     the reports stalled that long, silently. The Consume is read as
//     stopped: the resumer looks at once, makes the consumer again or
//     starts a Consume that pulls (TestS49natsDeletedNoPullWaitingAtOnce).
//   - ErrNoHeartbeat: the pull lost without a word (a consumer gone with
//     its server, a slow link); nats.go pulls again, the resumer looks.
//   - ErrServerShutdown (409 "Server Shutdown", R1 consumers as the server
//     stops): nothing. The link to that server drops and, back, nats.go
//     pulls again and the resumer looks (relink: redeliverLost). (A
//     consumer on another server of a cluster is left to the heartbeats.)
//   - ErrConsumerLeadershipChanged, ErrPinIDMismatch, ErrNoMessages, the
//     errors of a pull's publish (the link reconnecting): nats.go pulls
//     again itself (a lost link: once it is back).
//   - ErrConnectionClosed: nats.go stops the Consume; the connection is
//     closed for good, told by its own states (ConnClosed).
func (c *Consumer) execTrouble(err error) {
	r := &c.execResume
	switch {
	case errors.Is(err, jetstream.ErrConsumerDeleted), errors.Is(err, jetstream.ErrBadRequest),
		errors.Is(err, nats.ErrNoResponders), err != nil && strings.Contains(err.Error(), "Exceeded Max"):
		signal(r.stopped) // terminal, or as good as: nats.go stopped this Consume, or it waits on a pull refused or lost
	case errors.Is(err, jetstream.ErrNoHeartbeat):
		c.execBeatsMissed.Add(1)
	case errors.Is(err, jetstream.ErrConsumerNotFound), errors.Is(err, jetstream.ErrStreamNotFound),
		errors.Is(err, jetstream.ErrConsumerDoesNotExist):
	default:
		return
	}
	signal(r.trouble)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// resumeBackoffBase and resumeBackoffCap bound the resumer's waits
// between failed tries, doubled from the base at each: and the delays of
// the reports handed back while it has not looked (suspectDelay).
const resumeBackoffBase, resumeBackoffCap = 50 * time.Millisecond, 2 * time.Second

func (c *Consumer) resumeLoop() {
	r := &c.execResume
	defer close(r.done)
	for {
		select {
		case <-r.trouble:
		case <-r.relink:
			c.redeliverLost()
			continue
		case <-r.naked:
			ctx, cancel := context.WithTimeout(r.ctx, resumeTimeout)
			c.forgetRemoved(ctx)
			cancel()
			continue
		case <-r.ctx.Done():
			return
		}
		var failing time.Time // the first failed try of these
		for backoff := resumeBackoffBase; ; backoff = min(2*backoff, resumeBackoffCap) {
			err := c.resume()
			if err == nil {
				r.told = false
				break
			}
			if r.ctx.Err() != nil {
				return // Close
			}
			r.failed.add(c.log, 1, "natsbridge: durable consumer gone, making it again failed; retrying", "error", err)
			if failing.IsZero() {
				failing = time.Now()
			}
			if time.Since(failing) >= stalledAfter {
				c.tellStalled(err)
			}
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-r.ctx.Done():
				t.Stop()
				return
			}
		}
	}
}

// resume makes the durable consumer deliver again if it is gone or its
// Consume stopped; one that is there, of the stream read, whose Consume
// runs is left to nats.go (a missed heartbeat on a slow link).
func (c *Consumer) resume() error {
	r := &c.execResume
	ctx, cancel := context.WithTimeout(r.ctx, resumeTimeout)
	defer cancel()
	created, only, err := c.ensureExecStream(ctx, r.js)
	if err != nil {
		return err
	}
	stopped := false
	select {
	case <-r.stopped:
		stopped = true
	default:
	}
	sameStream := created.Equal(r.created)
	// The suspicions raised before the look are answered by it (execLooked,
	// once what it found is recorded); one raised after it signalled its
	// trouble again, for the next resume. Not under execMu: a report in
	// hand holds it, and a refusal's restart must stop the old Consume
	// meanwhile (TestS40natsRefusalKeepsBufferedReports).
	suspected := c.execRemade.Load()
	cons, err := r.js.Consumer(ctx, c.opts.Stream.Name, c.opts.Durable)
	if !sameStream && (err == nil || errors.Is(err, jetstream.ErrConsumerNotFound)) {
		// Another stream: where the consumer was in the one read is no
		// place in it (its sequences start over), whoever makes the
		// consumer in it — this Consumer, from its start, or an operator
		// who made the stream and the consumer again together.
		c.execMu.Lock()
		c.lostWithStream()
		c.execHigh, c.execReplayTo = 0, 0
		c.execUnawaited.Store(0) // another stream's sequences
		c.execGaps.reset(0)
		clear(c.execNaked)
		c.execMu.Unlock()
		c.execLooked.Store(suspected)
	}
	if err == nil && sameStream {
		if info := cons.CachedInfo(); info != nil && !info.Created.Equal(r.consCreated) {
			// Another's (an operator's, DeliverAll), read by a Consume
			// that stopped or runs on: it may deliver again what was
			// handled, farther back than Dedup's ids.
			c.execMu.Lock()
			c.execReplayTo = c.execHigh
			c.execMu.Unlock()
			r.consCreated = info.Created
		}
		c.execLooked.Store(suspected)
	}
	// from: an older Consume's late delivery at or past it is the new
	// one's to deliver (execGenFrom); of another stream, none is.
	from := uint64(math.MaxUint64)
	kept := err == nil && sameStream // the consumer the old Consume read, still there
	switch {
	case err == nil && sameStream && !stopped:
		return nil
	case err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound):
		if stopped {
			signal(r.stopped)
		}
		return fmt.Errorf("natsbridge: durable consumer %s: %w", c.opts.Durable, err)
	}
	// The old Consume is stopped before the durable consumer is made
	// again or updated, and delivers nothing more. nats.go's Consume
	// pulls by the consumer's name when its heartbeat timer fires or the
	// connection is back, whatever Stop does meanwhile, and Stop drops
	// what it received and had not handed on. The consumer was made
	// again first: a pull of the old Consume between the two reached the
	// new consumer, which delivered reports into it that Stop dropped —
	// waiting on the server for AckWait, every later one with them
	// (MaxAckPending 1; above 1 they came after later ones), and no reset
	// followed (kept is false) (TestS48natsResumeStopsBeforeRemake). Its
	// pulls now precede the UNSUB, and this connection's requests that
	// make or update the consumer follow it: none reaches the consumer
	// made again. A delivery of the old Consume already at the door
	// (onExec) is handed back or on by its generation as before. From
	// here on a failed try leaves it stopped: r.stopped is signalled, and
	// the next try starts one again.
	c.cc.Stop()
	select {
	case <-c.cc.Closed():
	case <-ctx.Done():
		signal(r.stopped)
		return ctx.Err()
	}
	if err == nil {
		if sameStream {
			from = redeliversFrom(cons)
		}
		// Its limits read again (an operator's change refused a pull):
		// MaxAckPending under the new pull's cap.
		if cons, err = c.fitAckPending(ctx, r.js, cons); err != nil {
			signal(r.stopped)
			return fmt.Errorf("natsbridge: durable consumer %s: %w", c.opts.Durable, err)
		}
	} else {
		start := uint64(0) // another stream: from its start
		if sameStream {
			// The looks (a request per report handed back and per gap
			// range) have half the try's time: over a slow link they
			// took it all, and making the consumer then failed, each
			// try alike (TestS39rvnatsSlowLinkRemake). What they do not
			// reach is started at: a replay, never a loss.
			look, stopLook := context.WithTimeout(ctx, resumeTimeout/2)
			c.forgetRemoved(look)
			// Below the last handled, not handled here: maybe delivered
			// into a link that died, or to a sharer that died before its
			// ack (TestS39natsRemakeFromUnhandled).
			gap, isGap := c.firstHeldGap(look)
			stopLook()
			c.execMu.Lock()
			start = c.execHigh + 1
			for seq := range c.execNaked {
				start = min(start, seq)
			}
			if isGap {
				start = min(start, gap)
			}
			// From the first handed back or not handled: the reports
			// handled after it come again, dropped by their stream
			// sequence (replayed).
			c.execReplayTo = c.execHigh
			c.execMu.Unlock()
			c.execLooked.Store(suspected)
			from = start
		}
		if cons, err = r.js.CreateOrUpdateConsumer(ctx, c.opts.Stream.Name, c.execConfig(start)); err == nil {
			c.madeAt(ctx, cons.CachedInfo(), start)
			cons, err = c.fitAckPending(ctx, r.js, cons)
		}
		if err != nil {
			signal(r.stopped) // still to start again
			return fmt.Errorf("natsbridge: durable consumer %s: %w", c.opts.Durable, err)
		}
	}
	var info *jetstream.ConsumerInfo
	if kept {
		// nats.go's Stop dropped what the old Consume had received and
		// not handed to onExec: to the server those reports wait for
		// their acks, and with MaxAckPending of them pending it delivered
		// nothing more for a whole AckWait (30 s by default) — after each
		// "Exceeded Max…" refusal (TestS40natsRefusalKeepsBufferedReports).
		// A Drain hands on what is buffered but not what the server sent
		// as it unsubscribed. Reset to the ack floor, they come again at
		// once (those handled since are dropped by their ids).
		//
		// Read unlocked (a round trip: execMu held across it kept late
		// deliveries and Close waiting), then reset and the generation
		// bumped in one execMu section: a report of the old Consume
		// waiting at the door as the reset ran entered between the two,
		// with the old generation, was handed on and acknowledged — an
		// ack the server neither takes nor answers, the report no longer
		// pending after the reset — and its ack, sent again until AckWait,
		// held execMu: the new Consume was not started for a whole AckWait
		// (TestS41natsRefusalRestartLateReport). Entering after the bump,
		// it is handed back (past execHigh, at or past execGenFrom) and
		// the new Consume delivers it. A report handed on between the read
		// and the lock was still pending: its ack is taken, and past what
		// the server told (execHigh) it leaves no reset, or one whose
		// second delivery is dropped by its id.
		info, _ = cons.Info(ctx)
	}
	look := c.lookGaps(ctx, info)
	c.execMu.Lock()
	if info != nil {
		c.resetUnreceived(info, look, "a Consume stopped")
	}
	// Another consumer, maybe of another stream: its NumPending counts
	// from where it starts (removedBefore).
	c.execAfterOK = false
	c.execWhole = only && c.readsWholeStream()
	c.execGen++
	gen := c.execGen
	c.execGenFrom = from
	c.execMu.Unlock()
	cc, err := c.consume(cons, gen)
	if err != nil {
		signal(r.stopped)
		return err
	}
	c.cc, r.created = cc, created
	if info := cons.CachedInfo(); info != nil {
		r.consCreated = info.Created
	}
	c.execResumed.Add(1)
	c.log.Warn("natsbridge: durable consumer was gone or stopped; delivering again", "stream", c.opts.Stream.Name, "same_stream", sameStream)
	return nil
}

// madeAt resets the durable consumer the resumer just made to start at
// stream sequence start (0: the stream's first) to start, when info, as
// the server answered its creation, shows it started elsewhere or
// delivered already. Made while the server was still deleting the one of
// the same name (its "consumer deleted" reaches the Consume before the
// deletion ends: nats-server consumer.go stopWithFlags releases the pulls
// before it removes the consumer and its store), it was seen starting at
// the stream's first (Delivered.Stream 1 with OptStartSeq 3: every report
// handled came again, dropped as duplicates) and delivering a report
// that no Consume received (the old one's pull), which the server held
// for a whole AckWait (30 s by default) before it came again, and every
// later one with it (TestS24DurableConsumerDeletedRecreated, 1 run in
// about 200 under load). A failed reset is logged: the reports then come
// after AckWait.
func (c *Consumer) madeAt(ctx context.Context, info *jetstream.ConsumerInfo, start uint64) {
	if info == nil || info.NumAckPending == 0 && info.Delivered.Stream+1 >= start {
		return
	}
	if _, err := c.execResume.js.ResetConsumerToSequence(ctx, c.opts.Stream.Name, c.opts.Durable, start); err != nil {
		c.execResume.failed.add(c.log, 1, "natsbridge: resetting the durable consumer made again failed; a report it delivered elsewhere comes again after AckWait", "error", err)
		return
	}
	c.log.Warn("natsbridge: durable consumer made again started elsewhere; reset to where it starts", "stream", c.opts.Stream.Name,
		"start", start, "delivered", info.Delivered.Stream, "pending", info.NumAckPending)
}

// consumerRemade reports whether meta, a delivery of the current Consume
// (gen), comes from a durable consumer made again by another under it: a
// first delivery (NumDelivered 1) of a report at or below the last handled
// and not handed back since, which one consumer never delivers for the
// first time twice (a consumer reset to its ack floor does), and whose id
// Dedup no longer holds (the caller's test: one it holds is dropped by its
// id, as after a reset). An
// operator who deletes the durable consumer and makes it again at once may
// leave nats.go's Consume running without an error (no pull of it waiting
// as the consumer went: no "consumer deleted"), its next pull read by the
// new consumer, which starts where the operator said (DeliverAll: the
// stream's first). Such a delivery wakes the resumer — which tells
// another consumer of the stream read (execReplayTo) from another stream
// (whose sequences start over: nothing was handled in it) — and is handed
// back unrecorded, to come again once it has looked (after a delay that
// grows while the suspicion is unanswered: handBackSuspect). Under execMu.
func (c *Consumer) consumerRemade(meta *jetstream.MsgMetadata, gen uint64) bool {
	// Once suspected (execRemade past execLooked), every delivery at or
	// below the last handled is handed back until the resumer has looked:
	// the one handed back comes again with NumDelivered 2, maybe before
	// execReplayTo is set, and handed on then it reached the host twice
	// (TestS38natsOperatorReplayNotRepeated, 1 run in ~30 under load;
	// TestS41natsSuspectHandedBackUntilLooked).
	suspect := c.execRemade.Load() != c.execLooked.Load()
	if meta == nil || gen != c.execGen || meta.NumDelivered != 1 && !suspect {
		return false
	}
	seq := meta.Sequence.Stream
	if seq > c.execHigh || seq <= c.execReplayTo {
		return false // not handled, or a replay known (replayed)
	}
	if _, naked := c.execNaked[seq]; naked || c.execGaps.has(seq) {
		return false // not handled here: its first delivery here may be its first
	}
	c.execRemade.Add(1)
	signal(c.execResume.trouble)
	return true
}

// handBackSuspect hands m back, a delivery suspected to come from a
// durable consumer made again by another (consumerRemade), with a delay:
// the resumer looks first, and m comes again after it. Handed back
// plainly, the server delivered it again at once, suspected again while
// the resumer had not looked — at network speed, for as long as the
// resumer's tries failed (its backoff up to 2 s, past a server's restart
// for seconds). The delay doubles at each hand-back while the suspicion
// is unanswered, from the resumer's backoff base to its cap (suspectDelay),
// and starts again at the base once it was answered. Under execMu.
func (c *Consumer) handBackSuspect(m jetstream.Msg) {
	_ = m.NakWithDelay(suspectDelay(c.execSuspectNaks))
	c.execSuspectNaks++
}

// suspectDelay is the delay of the hand-back of a suspected delivery
// after n others while the suspicion was unanswered: resumeBackoffBase
// doubled n times, at most resumeBackoffCap.
func suspectDelay(n int) time.Duration {
	d := resumeBackoffBase
	for range n {
		if d >= resumeBackoffCap/2 {
			return resumeBackoffCap
		}
		d *= 2
	}
	return d
}

// replayed reports whether the report at stream sequence seq is one a
// durable consumer made again by another delivers again after it was
// handled (execReplayTo): at or below the last handled when it was found,
// not handed back since (execNaked), and handled here or at or below the
// ack floor when this Consumer started (execGaps): a report delivered
// elsewhere and never handled here — into a link that died, with
// MaxAckPending above 1, or to a Consumer sharing the Durable that died
// before its ack — is handed on (TestS38rvnatsReplayKeepsUnhandled).
// Under execMu.
func (c *Consumer) replayed(seq uint64) bool {
	if seq == 0 || seq > c.execReplayTo || c.execGaps.has(seq) {
		return false
	}
	_, naked := c.execNaked[seq]
	return !naked
}

// redeliversFrom returns the stream sequence from which cons delivers
// again every report not acknowledged to it: past its ack floor, as its
// info last read it (see execGenFrom).
func redeliversFrom(cons jetstream.Consumer) uint64 {
	if info := cons.CachedInfo(); info != nil {
		return info.AckFloor.Stream + 1
	}
	return math.MaxUint64
}

// lostWithStream notes as owed a gap marker (announceRemoved) the
// reports the stream read held for the durable consumer and took with it
// when it went (deleted, or a memory stream lost with its server): those
// pending after its last first delivery (its NumPending, when known: not
// since a redelivery or a resume) and those handed back and not handled
// since. The stream is gone: NumPending is all there is to tell them by.
// Once: the count is then unknown, as after a resume. Consumers sharing a
// Durable: NumPending counted the reports pending for the durable
// consumer after this one's last first delivery, and those the other
// handled since are counted as lost too — a false loss marker, with a
// count too high (each sharer announces its own); not found deterministic
// to test, as which sharer's pull the server fills is its choice. Under
// execMu.
func (c *Consumer) lostWithStream() {
	n := uint64(len(c.execNaked))
	if c.execAfterOK {
		n += c.execAfter
	}
	c.execAfterOK, c.execSuspect = false, 0
	if n > 0 {
		c.owe(n)
	}
}

// redeliverLost runs once the connection is back after a loss. A report
// the server delivered into the link as it died is, to the server,
// delivered and waiting for its ack, and it delivers MaxAckPending (1) at
// a time: it held that report and every later one for a whole AckWait
// (30 s by default) before delivering it again. So when the server has
// delivered past the last report handled and waits for the ack of one the
// Consumer has not received, the durable consumer is reset to its ack
// floor (resetLost).
func (c *Consumer) redeliverLost() {
	r := &c.execResume
	ctx, cancel := context.WithTimeout(r.ctx, resumeTimeout)
	defer cancel()
	// Looked up unlocked: reports flow meanwhile. One handled since is
	// past what the server told (execHigh), and no reset follows.
	var cons jetstream.Consumer
	if st, err := r.js.Stream(ctx, c.opts.Stream.Name); err == nil && st.CachedInfo().Created.Equal(r.created) {
		cons, _ = st.Consumer(ctx, c.opts.Durable)
	}
	if cons == nil {
		// Gone, or another stream (a memory stream lost with its server),
		// or the server did not answer: resume looks, and makes what is
		// gone again.
		signal(r.trouble)
		return
	}
	info := cons.CachedInfo()
	look := c.lookGaps(ctx, info)
	c.execMu.Lock()
	defer c.execMu.Unlock()
	c.resetLost(info, look)
}

// resetLost resets the durable consumer to its ack floor (JetStream's
// consumer reset, nats-server 2.14 and later) when, as info read it after
// a reconnection, the server waits for the ack of a report the Consumer
// has not received (it delivered past the last report handled, or one
// below it that the Consumer did not handle: execGaps, with MaxAckPending
// above 1 a later one may come first): it was delivered into the lost
// link, and comes again at once. A report
// delivered and received — nats.go handed it to onExec, which waits for
// execMu (execDoor), as after an ordinary reconnection that raced the
// report — is not lost: when the reports the server waits for (past its
// ack floor, up to the last it delivered) are all at the door — whichever
// Consume delivered them: after a resume the old one's and the new one's
// may wait together — no reset is made and nothing logged; they are
// handed on and acknowledged.
// (A reset made anyway costs a second delivery, dropped by its id: the
// server ignores the first one's ack, unconfirmed, until it has delivered
// it again.) A report nats.go holds and has not yet handed to onExec
// (behind the one at the door, with MaxAckPending above 1, or not yet at
// the door) reads as lost: its second delivery is dropped by its id, and
// the first one's ack, which the server ignores, is not sent again past
// ackRetry (ackAwaited). (Consumers sharing a Durable
// split its reports: a report in another's hands may then come to this one
// too — at least once still.) Under execMu, with no report in hand; the
// reset's deadline starts once it is held, so that a delivery that held it
// long (an ack sent again, a host's dispatcher slow to take a report)
// leaves the reset all of its time. look: the reports of the durable
// consumer's filters in the gaps, as lookGaps found them before execMu
// was taken (nil: every sequence in a gap counts). Its result: whether
// the reset was made.
func (c *Consumer) resetLost(info *jetstream.ConsumerInfo, look *gapLook) bool {
	return c.resetUnreceived(info, look, "the lost link")
}

// resetUnreceived is resetLost for reports delivered into where (the
// lost link, or a Consume the resumer stopped: see resume), which the
// Warn lines name. Under execMu, with no report in hand.
func (c *Consumer) resetUnreceived(info *jetstream.ConsumerInfo, look *gapLook, where string) bool {
	r := &c.execResume
	received := c.execDoor.waiting(info.AckFloor.Stream, info.Delivered.Stream)
	// Nothing delivered past the last report handled is not enough: with
	// MaxAckPending above 1 a report below it may never have come (into
	// the lost link, or a Consume stopped), one after it handed on. It
	// waited for AckWait, and every later one with it once MaxAckPending
	// was 1 (TestS48natsResetForUnreceivedBelowLastHandled;
	// TestS39natsOperatorLimitsChangedLive timed out, about 1 run in
	// 1,500 under load). One not handed on here (execGaps) between the ack
	// floor and the last delivered, and not at the door, reads as
	// unreceived: of the durable consumer's filters (Subjects) only, when
	// lookGaps could tell — another subject's sequence, which it never
	// delivers, read as one and reset it for nothing, a Warn and its
	// reports again, dropped by their ids, after every reconnection that
	// raced an ack (TestS49natsForeignGapNoReset). Nor is a report
	// handed on, at or below execHigh, surely acknowledged when its ack
	// was given up (ackAwaited: execUnawaited above the ack floor): pending
	// again once the server delivers it again, into a Consume the resumer
	// stopped, which dropped it (TestS48natsGivenUpAckNotTrustedAtRestart).
	if c.closed.Load() || info.NumAckPending <= received ||
		info.Delivered.Stream <= c.execHigh && c.execUnawaited.Load() <= info.AckFloor.Stream &&
			!look.unreceived(&c.execGaps, info.AckFloor.Stream, info.Delivered.Stream, &c.execDoor) {
		return false
	}
	ctx, cancel := context.WithTimeout(r.ctx, resumeTimeout)
	defer cancel()
	if _, err := r.js.ResetConsumer(ctx, c.opts.Stream.Name, c.opts.Durable); err != nil {
		// Not retried: a server older than 2.14 has no reset, and the
		// loop must go on watching for a consumer gone. The report comes
		// again after AckWait.
		r.failed.add(c.log, 1, "natsbridge: resetting the durable consumer failed; a report delivered into "+where+" comes again after AckWait", "error", err)
		return false
	}
	c.execResumed.Add(1)
	c.log.Warn("natsbridge: reports delivered into "+where+" and not acknowledged; delivered again", "stream", c.opts.Stream.Name, "pending", info.NumAckPending, "received", received)
	return true
}

// gapLook is what lookGaps found: the stream sequences of the durable
// consumer's filters past info's ack floor, up to its last delivered.
type gapLook struct {
	seqs []uint64
}

// maxGapLook bounds the reports of its filters a look lists: past it, it
// gives up (nil: every sequence in a gap counts).
const maxGapLook = maxSeqGaps

// lookGaps looks in the stream, for a durable consumer with filters (its
// Subjects: not when it reads the whole stream, execFilter), for the
// messages of the filters past info's ack floor up to its last delivered:
// the only ones it delivered there, and may wait for the ack of; every
// other sequence is another subject's (or removed). Nil when there is
// nothing to look for (no filters, nothing pending), or the stream did not
// answer, or past maxGapLook messages: every sequence in a gap then
// counts, a reset for nothing at worst. One request per message found and
// per filter. Unlocked, execMu untouched: a report in hand holds it
// (resume takes it once, to reset and bump the generation together).
func (c *Consumer) lookGaps(ctx context.Context, info *jetstream.ConsumerInfo) *gapLook {
	if info == nil || info.NumAckPending == 0 || c.execFilter || len(c.opts.Subjects) == 0 {
		return nil
	}
	floor, last := info.AckFloor.Stream, info.Delivered.Stream
	look := &gapLook{}
	if floor >= last {
		return look
	}
	st, err := c.execResume.js.Stream(ctx, c.opts.Stream.Name)
	if err != nil {
		return nil
	}
	for _, f := range c.opts.Subjects {
		for from := floor + 1; from <= last; {
			m, err := st.GetMsg(ctx, from, jetstream.WithGetMsgSubject(f))
			switch {
			case errors.Is(err, jetstream.ErrMsgNotFound):
				from = math.MaxUint64 // none of f at or past from
			case err != nil:
				return nil
			case m.Sequence <= last:
				if len(look.seqs) == maxGapLook {
					return nil
				}
				look.seqs = append(look.seqs, m.Sequence)
				from = m.Sequence + 1
			default:
				from = math.MaxUint64
			}
		}
	}
	return look
}

// unreceived is seqGaps.unreceived of the durable consumer's filters: of
// the sequences look found, one in a gap and not at the door. A nil look:
// any sequence in a gap past floor up to last. Under execMu.
func (look *gapLook) unreceived(g *seqGaps, floor, last uint64, door *execDoor) bool {
	if look == nil {
		return g.unreceived(floor, last, door)
	}
	for _, seq := range look.seqs {
		if g.has(seq) && door.waiting(seq-1, seq) == 0 {
			return true
		}
	}
	return false
}

// ensureExecStream creates the stream of execution reports if it is
// missing (not with StreamOptions.NoCreate) and returns when it was
// created, which tells one incarnation of it from the next, and whether
// it holds durable subjects only (every stream sequence is a durable
// message: see execWhole).
//
// A stream there that it cannot make its own way — an operator made it
// again with a field the server will not update (storage: "stream
// configuration update can not change storage type") — is read as an
// operator's stream is (StreamOptions.NoCreate) when it holds the reports
// as well: retrying to make it for ever would stop the reports.
func (c *Consumer) ensureExecStream(ctx context.Context, js jetstream.JetStream) (time.Time, bool, error) {
	_, made := ensureStream(ctx, js, c.opts.Prefix, c.opts.Stream)
	if made != nil && !c.opts.Stream.NoCreate {
		o := c.opts.Stream
		o.NoCreate = true
		if _, err := ensureStream(ctx, js, c.opts.Prefix, o); err != nil {
			return time.Time{}, false, errors.Join(made, err)
		}
		made = nil
	}
	if made != nil {
		return time.Time{}, false, made
	}
	st, err := js.Stream(ctx, c.opts.Stream.Name)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("natsbridge: stream %s: %w", c.opts.Stream.Name, err)
	}
	info := st.CachedInfo()
	only := !slices.ContainsFunc(info.Config.Subjects, func(subj string) bool {
		return !slices.ContainsFunc(durableTypes[:], func(t schema.EventType) bool { return covers(c.opts.Prefix+".*.*."+t.String(), subj) })
	})
	return info.Created, only, nil
}

// handled records that the report m is done with (acknowledged or
// terminated): a consumer made again starts after it. Under execMu.
func (c *Consumer) handled(m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		return
	}
	seq := meta.Sequence.Stream
	c.execHigh = max(c.execHigh, seq)
	c.execGaps.handled(seq)
	delete(c.execNaked, seq)
}

// forgetRemoved forgets the reports handed back (execNaked) that the
// stream no longer holds — a purge, its MaxAge or limits removed them
// before they came again: the server skips them, so a consumer made again
// must not start at them (it would start at the stream's first and
// deliver again every report handled since). They were never handed on:
// owed a gap marker (owe). A report the server does not answer for is
// kept. Run by the resumer: when it makes the consumer again, and when a
// later report came first (nakedPassed).
func (c *Consumer) forgetRemoved(ctx context.Context) {
	c.execMu.Lock()
	naked := make([]uint64, 0, len(c.execNaked))
	for seq := range c.execNaked {
		naked = append(naked, seq)
	}
	c.execMu.Unlock()
	if len(naked) == 0 {
		return
	}
	st, err := c.execResume.js.Stream(ctx, c.opts.Stream.Name)
	if err != nil {
		return
	}
	var gone []uint64
	for _, seq := range naked {
		if _, err := st.GetMsg(ctx, seq); errors.Is(err, jetstream.ErrMsgNotFound) {
			gone = append(gone, seq)
		}
	}
	c.execMu.Lock()
	defer c.execMu.Unlock()
	n := uint64(0)
	for _, seq := range gone {
		if _, ok := c.execNaked[seq]; ok {
			delete(c.execNaked, seq)
			n++
		}
	}
	if n > 0 {
		c.owe(n)
	}
}

// firstHeldGap returns the lowest stream sequence at or below the last
// handled that this Consumer did not handle (execGaps) and that the stream
// still holds — of the subjects its durable consumer reads (Subjects, or
// every one when it reads the whole stream: execFilter): a consumer made
// again starts there. Another subject's message is no report of its: with
// two filters the look was on every subject, found another venue's
// message in a gap (every other subject's sequence is one), and the
// consumer made again delivered again every report handled since, each
// dropped by stream sequence (TestS40natsRemakeSearchesFilteredSubjects).
// A gap the stream no longer holds
// (purged, aged out, deleted: announced already, or with the next
// report) is passed, as forgetRemoved passes a report handed back: one
// made again at it would start at the stream's first and deliver again
// every report handled since (TestS36rvnatsNakedThenPurgedForgotten).
// When the stream does not answer, or ctx ends, the lowest gap not yet
// found empty: a replay repeats, never loses. One request per range and
// filter at most (at most maxSeqGaps ranges; a filter whose next message
// is past a range is not asked again until a range reaches it), made
// only when the consumer is made again.
func (c *Consumer) firstHeldGap(ctx context.Context) (uint64, bool) {
	c.execMu.Lock()
	gaps := slices.Clone(c.execGaps.gaps)
	filters := []string{">"}
	if !c.execFilter {
		filters = slices.Clone(c.opts.Subjects)
	}
	c.execMu.Unlock()
	if len(gaps) == 0 {
		return 0, false
	}
	st, err := c.execResume.js.Stream(ctx, c.opts.Stream.Name)
	if err != nil {
		return gaps[0][0], true
	}
	// next[i]: the first message of filters[i] at or past the last range
	// asked about (0: not asked; math.MaxUint64: none).
	next := make([]uint64, len(filters))
	for _, g := range gaps {
		low := uint64(math.MaxUint64)
		for i, f := range filters {
			if next[i] < g[0] {
				m, err := st.GetMsg(ctx, g[0], jetstream.WithGetMsgSubject(f))
				switch {
				case errors.Is(err, jetstream.ErrMsgNotFound):
					next[i] = math.MaxUint64 // nothing of it at or past the gap
				case err != nil:
					return g[0], true
				default:
					next[i] = m.Sequence
				}
			}
			low = min(low, next[i])
		}
		switch {
		case low == math.MaxUint64:
			return 0, false // nothing held at or past the gap
		case low <= g[1]:
			return low, true
		}
	}
	return 0, false
}

// nakedPassed wakes the resumer to look for reports handed back that the
// stream no longer holds (forgetRemoved) when the server delivers, for the
// first time, a report past one handed back and not handled since: the
// server delivers again what is handed back before what it has not
// delivered, unless it was removed (or MaxAckPending above 1 let the later
// one come first: then the look finds it still there). Under execMu.
func (c *Consumer) nakedPassed(meta *jetstream.MsgMetadata) {
	if meta == nil || meta.NumDelivered != 1 || len(c.execNaked) == 0 {
		return
	}
	for seq := range c.execNaked {
		if seq < meta.Sequence.Stream {
			signal(c.execResume.naked)
			return
		}
	}
}

// handBack hands m back (Nak) to be delivered again, and records it: a
// consumer made again starts at it at the latest. Under execMu.
func (c *Consumer) handBack(m jetstream.Msg) {
	if meta, err := m.Metadata(); err == nil {
		if c.execNaked == nil {
			c.execNaked = make(map[uint64]struct{})
		}
		c.execNaked[meta.Sequence.Stream] = struct{}{}
	}
	_ = m.Nak()
}

// execDoor counts the reports nats.go has handed to onExec that wait for
// execMu, by stream sequence (one per Consume delivering: a resume leaves
// the old Consume's delivery in progress while the new one's starts, and
// both may carry one sequence). A single value, cleared by whichever
// delivery took execMu first, dropped the other's: a report waiting read
// as lost, and a reset delivered it again for nothing.
type execDoor struct {
	mu sync.Mutex
	at map[uint64]int // stream sequence → deliveries of it waiting
}

// enter notes a delivery of stream sequence seq (0: unknown) waiting.
func (d *execDoor) enter(seq uint64) {
	if seq == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.at == nil {
		d.at = make(map[uint64]int)
	}
	d.at[seq]++
}

// leave notes a delivery of seq past the door (it holds execMu).
func (d *execDoor) leave(seq uint64) {
	if seq == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if n := d.at[seq]; n > 1 {
		d.at[seq] = n - 1
	} else {
		delete(d.at, seq)
	}
}

// waiting returns how many distinct stream sequences past floor, up to
// last, are at the door: of the reports the server waits for the ack of,
// those received.
func (d *execDoor) waiting(floor, last uint64) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for seq := range d.at {
		if seq > floor && seq <= last {
			n++
		}
	}
	return n
}

// removedBefore notes the messages of the durable consumer removed from
// the stream before it delivered them — a purge, the stream's MaxAge,
// MaxMsgs or MaxBytes with discard old: JetStream's consumer skips what is
// gone, and tells nothing — as owed a gap marker (announceRemoved). The
// message meta, on subject subj, tells how many of the durable consumer's
// messages were pending after it when the server delivered it
// (NumPending): at the next first delivery, as many less the one
// delivered are pending still or delivered since, unless some were
// removed. At least the difference were; removed at once with the one
// before them, or published and removed between two deliveries, they are
// not seen. Deliveries between the two (the consumer sequence counts
// every one): each may have taken one of those pending — to another
// Consumer sharing the Durable, or into a lost link — and explains one
// missing. A Consumer that reads the whole stream (execWhole) counts
// by stream sequences alone: each between the two is the durable
// consumer's, delivered between them (one a delivery, at most) or
// removed — which also tells reports published and removed between two
// deliveries, which NumPending never counted. Of others, NumPending alone is not trusted (servers have over-counted
// it: nats-server#2357, stuck at 1; #5655, past the stream's messages):
// what it says was removed is announced as far as the stream confirms
// it — stream sequences between the two deliveries that it no longer
// holds (notHeld) — and the rest is kept (execSuspect) for the sequences
// between later deliveries (a report deleted past the one delivered), up
// to the stream's last sequence when it grew (execSuspectTo). Of
// a filtered durable consumer a sequence not held may be another
// subject's: an over-count with another subject's removal between the
// same two deliveries can still read as a loss. A redelivery (its
// NumPending counts from where the consumer has got to), a consumer
// sequence that did not go up (a consumer made again) and a resume start
// the count again, and drop what is kept; a delivery of a Consume
// older than the current one (gen below execGen: in progress as a resume
// stopped it) counts nothing and leaves the count as it is. wanted:
// Subjects match subj (its venue's subscribers are told). Under execMu.
func (c *Consumer) removedBefore(meta *jetstream.MsgMetadata, subj string, wanted bool, gen uint64) {
	if wanted {
		if v, ok := subjectVenue(c.opts.Prefix, subj); ok {
			c.execVenues.get(v)
		}
	}
	if gen != c.execGen {
		return // an older Consume's late delivery: its counts are another consumer's
	}
	if meta == nil || meta.NumDelivered != 1 {
		c.execAfterOK, c.execSuspect = false, 0
		return
	}
	after, prev, prevStream, known := c.execAfter, c.execAfterSeq, c.execAfterStream, c.execAfterOK
	c.execAfter, c.execAfterSeq, c.execAfterStream, c.execAfterOK = meta.NumPending, meta.Sequence.Consumer, meta.Sequence.Stream, true
	if !known || meta.Sequence.Consumer <= prev {
		c.execSuspect = 0
		return
	}
	delivered := meta.Sequence.Consumer - prev
	if c.execWhole {
		// Every stream sequence is the durable consumer's: those passed
		// and not delivered meanwhile (at most one a delivery) were
		// removed, NumPending or not.
		if passed := meta.Sequence.Stream - prevStream - 1; meta.Sequence.Stream > prevStream && passed > delivered-1 {
			c.owe(passed - (delivered - 1))
		}
		return
	}
	if after > meta.NumPending+delivered {
		c.execSuspect += after - meta.NumPending - delivered
		c.execSuspectTo = 0 // stored up to the stream's last now: asked below
	}
	if c.execSuspect == 0 {
		return
	}
	if c.execSuspectTo != 0 && prevStream >= c.execSuspectTo {
		c.execSuspect = 0 // every sequence it may be was passed: an over-count
		return
	}
	held, last := c.notHeld(prevStream, meta.Sequence.Stream, c.execSuspectTo == 0)
	if c.execSuspectTo == 0 {
		c.execSuspectTo = last
	}
	n := min(c.execSuspect, held)
	c.execSuspect -= n
	if n > 0 {
		c.owe(n)
	}
}

// notHeld returns how many stream sequences between from and to (both
// excluded) the stream no longer holds: before its first (a purge, MaxAge,
// MaxMsgs or MaxBytes with discard old) or deleted inside it (a message
// deleted, a purge of one subject), and its last sequence (0: not asked).
// What NumPending says was removed
// between two deliveries is confirmed by it (removedBefore): a server
// that over-counts NumPending (nats-server#2357, #5655) leaves no such
// sequence. When the stream does not answer (resumeTimeout), NumPending
// is trusted: the difference is returned as removed (math.MaxUint64).
// With none between, the stream is asked only when last is wanted.
// Under execMu, a request to the server.
func (c *Consumer) notHeld(from, to uint64, wantLast bool) (n, last uint64) {
	if to <= from+1 && !wantLast {
		return 0, 0
	}
	ctx, cancel := context.WithTimeout(c.life, resumeTimeout)
	defer cancel()
	st, err := c.execResume.js.Stream(ctx, c.opts.Stream.Name)
	if err != nil {
		return math.MaxUint64, 0
	}
	info, err := st.Info(ctx, jetstream.WithDeletedDetails(true))
	if err != nil {
		return math.MaxUint64, 0
	}
	if first := info.State.FirstSeq; first > from+1 && to > from+1 {
		n = min(first, to) - from - 1
	}
	for _, seq := range info.State.Deleted {
		if seq > from && seq < to {
			n++
		}
	}
	return n, info.State.LastSeq
}

// tellStalled tells the host, once until a try succeeds, that the durable
// consumer delivers nothing and tries to make it deliver again have failed
// for stalledAfter, the last with err, while the NATS connection is up (a lost link is told by its
// own states): an operator's push consumer in its place ("consumer is
// not a pull consumer"), a MaxRequestExpires under nats.go's least pull
// expiry (1 s), a server refusing to make it. Such a stall lasted until
// an operator acted, told only by the Logger at Warn (each doubling of
// the failed tries). One gap marker per venue whose execution reports
// the Consumer has seen, as announceRemoved's, GapCount 0 (the reports
// are not lost: they wait in the stream, and come once a try succeeds):
// the host asks the venue for its orders' state meanwhile. Nothing is
// told before a report named a venue. Run by the resumer.
func (c *Consumer) tellStalled(err error) {
	r := &c.execResume
	if r.told || !c.nc.IsConnected() {
		return
	}
	c.execMu.Lock()
	defer c.execMu.Unlock()
	if c.closed.Load() || c.execVenues.len() == 0 {
		return
	}
	r.told = c.announceExec(0, "natsbridge: durable consumer "+c.opts.Durable+" delivers nothing, making it deliver again failed ("+err.Error()+"): execution reports wait in stream "+c.opts.Stream.Name+" until it can")
}

// announceRemoved publishes the gap markers owed for reports removed
// unread (removedBefore): one per venue whose execution reports the
// Consumer has seen (the 256 most recent), GapType schema.EventExecReport,
// no symbol, GapSource schema.GapRelay, GapCount the reports removed when
// there is one venue (0, unknown, when they cannot be told apart: the
// count is in Reason), so that the host asks the venue for its orders'
// state. It reports whether nothing is owed any more: an event not found
// within PoolWait leaves the markers owed, for the next delivery. Under
// execMu.
func (c *Consumer) announceRemoved() bool {
	if c.execOwed == 0 || c.execVenues.len() == 0 {
		return true // no venue to tell yet: owed until a report names one
	}
	n := c.execOwed
	count := n
	if c.execVenues.len() != 1 {
		count = 0
	}
	why := "natsbridge: " + strconv.FormatUint(n, 10) + " durable messages removed from stream " + c.opts.Stream.Name + " before they were read (a purge, its MaxAge or limits)"
	if !c.announceExec(count, why) {
		return false
	}
	c.execOwed = 0
	return true
}

// announceExec publishes one gap marker about execution reports per venue
// whose reports the Consumer has seen (the 256 most recent): GapType
// schema.EventExecReport, no symbol, GapSource schema.GapRelay, GapCount
// count, Reason why. It reports whether every one was published: an
// event not found within PoolWait stops it. Under execMu.
func (c *Consumer) announceExec(count uint64, why string) bool {
	for v := range c.execVenues.m {
		ev, err := c.getWait()
		if err != nil {
			return false
		}
		ev.Venue, ev.Type, ev.IngestTS = v, schema.EventGap, time.Now().UnixNano()
		*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: schema.EventExecReport, GapCount: count, GapSource: schema.GapRelay, Reason: why}
		if !c.publishExec(ev) {
			return false
		}
		c.gaps.Add(1)
	}
	return true
}

// subjectVenue returns the venue token of subj, a durable subject under
// prefix (<prefix>.<venue>.<symbol>.<type>).
func subjectVenue(prefix, subj string) (schema.Venue, bool) {
	rest, ok := strings.CutPrefix(subj, prefix+".")
	if !ok {
		return "", false
	}
	v, _, ok := strings.Cut(rest, ".")
	return schema.Venue(v), ok && v != ""
}

// removedWhileDown notes as owed a gap marker (announceRemoved) the
// messages removed from the stream while no Consumer read the durable
// consumer — its MaxAge over a long stop, a purge — when, as info read it
// at start, the durable consumer had delivered messages and the stream's
// first is past the last of them: those between were never delivered.
// Only when the durable consumer reads the whole stream (the bridge's
// own, every durable subject): of a filtered one, what was removed may
// be other nodes' reports, and cannot be told.
func (c *Consumer) removedWhileDown(ctx context.Context, js jetstream.JetStream, info *jetstream.ConsumerInfo) {
	if info == nil || info.Delivered.Stream == 0 || c.opts.Stream.NoCreate || !c.readsWholeStream() {
		return
	}
	st, err := js.Stream(ctx, c.opts.Stream.Name)
	if err != nil {
		return
	}
	first := st.CachedInfo().State.FirstSeq
	if first <= info.Delivered.Stream+1 {
		return
	}
	n := first - info.Delivered.Stream - 1
	c.execMu.Lock()
	defer c.execMu.Unlock()
	c.owe(n)
}

// readsWholeStream reports whether the durable consumer reads every
// durable subject under Prefix.
func (c *Consumer) readsWholeStream() bool {
	if c.execFilter {
		return true
	}
	for _, t := range durableTypes {
		subj := c.opts.Prefix + ".*.*." + t.String()
		if !slices.ContainsFunc(c.opts.Subjects, func(f string) bool { return covers(f, subj) }) {
			return false
		}
	}
	return true
}

// owe notes n reports removed from the stream unread: counted, logged,
// and owed a gap marker (announceRemoved). Under execMu.
func (c *Consumer) owe(n uint64) {
	c.execOwed += n
	c.execLost.add(c.log, n, "natsbridge: execution reports removed from the stream before this Consumer read them (a purge, the stream's MaxAge or limits); announced by gap markers", "stream", c.opts.Stream.Name)
}
