package meltica_test

// Outside contract tests, round 7 (s32ct): numbers in the forms venues are
// reported to send, written from normalize/doc.go, the README's schema row
// and DESIGN.md contracts 6 and 7, without reading the parsers.

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// s32ctDecimalText matches a number as JSON or a venue's string writes it
// in positional notation: a sign, digits, a point and more digits.
var s32ctDecimalText = regexp.MustCompile(`^(-?)(\d+)(?:\.(\d+))?$`)

// s32ctEchoedID matches a request id the venue echoes from our request
// (Kraken v2 "req_id", Binance and OKX "id"): Control.RequestID holds it
// "when numeric" (schema/event.go), and we only send integers, so another
// form is no number of ours and 0 is documented, not a wrong number.
var s32ctEchoedID = regexp.MustCompile(`^/(req_id|id)$`)

// s32ctExponentForms returns the number text s (positional: "67000.50",
// "0.00009669", "12") written with an exponent in two ways that keep every
// digit and so the scale: all digits as an integer mantissa
// ("6700050e-2") and one digit before the point ("6.700050E+4",
// "9.669E-5"). Nil when s is no positional number.
func s32ctExponentForms(s string) []string {
	m := s32ctDecimalText.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	sign, intPart, frac := m[1], m[2], m[3]
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return nil // zero: no exponent form says more
	}
	// value = digits × 10^-(len(frac)) with digits' leading zeros gone.
	first := sign + digits + "e-" + strconv.Itoa(len(frac))
	exp := len(digits) - 1 - len(frac)
	mant := digits[:1]
	if len(digits) > 1 {
		mant += "." + digits[1:]
	}
	es := "E+"
	if exp < 0 {
		es, exp = "E-", -exp
	}
	return []string{first, sign + mant + es + strconv.Itoa(exp)}
}

// Contract 7 ("fixed-point decimals that keep the digits the venue sent")
// and the README's schema row ("decimals of every form the venues send
// (JSON strings or bare numbers, exponents ...), the value exact"); contract
// 6 and normalize/doc.go ("A message that cannot be normalised yields a
// *ParseError"). Venues have sent prices and sizes in scientific notation
// in their WebSocket streams — FTX ("9.669E-05 instead of 0.00009669",
// ftexchange/ftx#63), Huobi trades (crypto-chassis/ccapi#98) — and an
// exponent is valid JSON number syntax (RFC 8259 §6). Every positional
// number of every real message in testdata/venues, quoted or bare,
// rewritten with an exponent that keeps its digits, gives exactly the
// events of the message as sent, or the message is refused with a
// *ParseError: never an event with another value, never a panic. Every
// pooled event goes back. (The first element of each array stands for
// the others, as in TestS29ctMutatedValuesAreRefusedOrHarmless.)
func TestS32ctExponentFormsKeepTheValueOrAreRefused(t *testing.T) {
	for _, s := range s25ctSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			base := newS29ctRun(t, s.venue)
			want, err := base.feed(s.data, false)
			base.close()
			if err != nil {
				t.Skipf("the sample itself is refused: %v", err)
			}
			sh := s29ctWalk(t, s.data)
			tried, refused := 0, 0
			for _, leaf := range sh.leaves {
				if s32ctEchoedID.MatchString(leaf.Path) || s29ctDeepIndex.MatchString(leaf.Path) {
					continue
				}
				orig := string(s.data[leaf.From:leaf.To])
				text, quoted := orig, false
				if uq, err := strconv.Unquote(orig); err == nil {
					text, quoted = uq, true
					if !strings.Contains(text, ".") {
						continue // a quoted integer may be an id: "123" is not "1.23e2"
					}
				}
				for _, form := range s32ctExponentForms(text) {
					if quoted {
						form = strconv.Quote(form)
					}
					msg := s29ctSplice(s.data, leaf.From, leaf.To, form)
					r := newS29ctRun(t, s.venue)
					got, err := r.feed(msg, false)
					tried++
					switch {
					case err != nil:
						refused++
						// A frame of several messages may deliver the
						// others; a refused message may be announced by a
						// gap marker (normalize/doc.go).
						for _, g := range got {
							if strings.Contains(g, " Type:gap ") {
								continue
							}
							assert.True(t, slices.Contains(want, g),
								"%s=%s (refused: %v): an event the message as sent does not give:\n%s", leaf.Path, form, err, g)
						}
					default:
						if !assert.Equal(t, want, got, "%s: %s for %s: the events differ from the message as sent", leaf.Path, form, orig) {
							t.Logf("message: %.400s", msg)
						}
					}
					r.close()
				}
			}
			t.Logf("%d exponent forms, %d refused", tried, refused)
		})
	}
}
