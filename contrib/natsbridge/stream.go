package natsbridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/meltica/meltica/schema"
)

// Defaults of StreamOptions.
const (
	DefaultStream          = "MELTICA_EXEC"
	DefaultDuplicateWindow = 2 * time.Minute
	DefaultMaxAge          = 24 * time.Hour
)

// StreamOptions describe the JetStream stream that keeps execution reports,
// order acks and account updates (balances and positions), on the subjects
// <prefix>.*.*.exec_report, .order_ack, .balance and .position. Publisher
// and Consumer both create it if it is missing (whichever starts first), so
// give both the same values.
type StreamOptions struct {
	// Name of the stream. Defaults to DefaultStream ("MELTICA_EXEC").
	Name string
	// DuplicateWindow is how long the stream remembers message ids: a
	// report published again within it (a retry after a lost ack, a
	// duplicate from a venue connection's rotation overlap, a restarted
	// ingest node) is stored once. Defaults to DefaultDuplicateWindow (2 min).
	DuplicateWindow time.Duration
	// MaxAge is how long reports are kept: a consumer down for longer loses
	// the older ones. Defaults to DefaultMaxAge (24 h).
	MaxAge time.Duration
	// Replicas is the stream's replication factor in a cluster. Defaults to 1.
	Replicas int
	// Memory keeps the stream in memory instead of files. Defaults to false.
	Memory bool
	// NoCreate leaves the stream to the operator: it must exist, capture
	// the four subjects above, acknowledge what it stores (not no_ack, not
	// sealed), keep reports until their age (retention
	// limits) and not discard old ones at its limits (max_msgs, max_bytes,
	// max_msgs_per_subject with discard old: reports would vanish before a
	// consumer read them, unannounced; with discard new the Publisher
	// retries until there is room). NewPublisher and NewConsumer refuse
	// another stream, saying why. Its max_msg_size is honoured as the
	// server's max_payload is (see Encoding). Give it a duplicate window.
	// Defaults to false.
	NoCreate bool
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.Name == "" {
		o.Name = DefaultStream
	}
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = DefaultDuplicateWindow
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	return o
}

// durableTypes travel on the JetStream stream rather than on core NATS:
// execution reports, order acks and account updates (balances and
// positions), which a host cannot rebuild from a later message.
var durableTypes = [...]schema.EventType{schema.EventExecReport, schema.EventOrderAck, schema.EventBalance, schema.EventPosition}

// durable reports whether events of type t travel on the JetStream stream
// rather than on core NATS.
func durable(t schema.EventType) bool {
	for _, d := range durableTypes {
		if t == d {
			return true
		}
	}
	return false
}

// durableSubject reports whether subj is the subject of a durable type,
// whatever its message holds.
func durableSubject(subj string) bool {
	i := strings.LastIndexByte(subj, '.')
	for _, t := range durableTypes {
		if subj[i+1:] == t.String() {
			return true
		}
	}
	return false
}

// ensureStream creates or updates the stream that captures the durable
// types' subjects under prefix, or checks the operator's (NoCreate), and
// returns the stream's largest message (0: no limit of its own).
func ensureStream(ctx context.Context, js jetstream.JetStream, prefix string, o StreamOptions) (int, error) {
	subjects := make([]string, 0, len(durableTypes))
	for _, t := range durableTypes {
		subjects = append(subjects, prefix+".*.*."+t.String())
	}
	if o.NoCreate {
		st, err := js.Stream(ctx, o.Name)
		if err != nil {
			return 0, fmt.Errorf("natsbridge: stream %s: %w", o.Name, err)
		}
		cfg := st.CachedInfo().Config
		if err := checkStream(cfg, subjects); err != nil {
			return 0, fmt.Errorf("natsbridge: stream %s %w", o.Name, err)
		}
		return max(int(cfg.MaxMsgSize), 0), nil
	}
	storage := jetstream.FileStorage
	if o.Memory {
		storage = jetstream.MemoryStorage
	}
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        o.Name,
		Description: "Meltica execution reports, order acks and account updates",
		Subjects:    subjects,
		Storage:     storage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      o.MaxAge,
		Duplicates:  o.DuplicateWindow,
		Replicas:    o.Replicas,
	})
	if err != nil {
		return 0, fmt.Errorf("natsbridge: creating stream %s: %w", o.Name, err)
	}
	return 0, nil
}

// checkStream refuses an operator's stream that would hold reports up or
// lose them unannounced: a durable subject it does not capture (each
// report on it retried for ever at the head of the Publisher's queue), one
// that acknowledges no publish (no_ack) or is sealed (likewise), a
// limit that throws old reports away before a consumer has read them, a
// retention other than limits (interest drops what no consumer has asked
// for yet; a work queue gives each report to one host only).
func checkStream(cfg jetstream.StreamConfig, subjects []string) error {
	var missing []string
	for _, subj := range subjects {
		if !slices.ContainsFunc(cfg.Subjects, func(f string) bool { return covers(f, subj) }) {
			missing = append(missing, subj)
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("does not capture %s", strings.Join(missing, ", "))
	case cfg.NoAck:
		return errors.New("does not acknowledge what it stores (no_ack): every report would be retried for ever at the head of the Publisher's queue")
	case cfg.Sealed:
		return errors.New("is sealed: it stores no more reports")
	case cfg.Retention != jetstream.LimitsPolicy:
		return fmt.Errorf("has retention %s: reports must stay until their age (limits)", cfg.Retention)
	case cfg.Discard == jetstream.DiscardOld && (cfg.MaxMsgs > 0 || cfg.MaxBytes > 0 || cfg.MaxMsgsPerSubject > 0):
		return errors.New("discards old reports at its limits (max_msgs, max_bytes, max_msgs_per_subject): use discard new, and the Publisher retries until there is room")
	}
	return nil
}
