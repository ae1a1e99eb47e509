package normalize

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/schema"
)

// The value types below are what venue message structs are made of. Each
// decodes itself through goccy's v2 UnmarshalerFrom interface, reading one
// JSON value with the decoder it is given, into storage it owns or was bound
// to, so that decoding a message into a reused struct allocates nothing.
// They record whether the key was present (ok); what a value means — a
// price that may not be negative, milliseconds to turn into nanoseconds —
// is decided when the struct fills the event (see filler), where the
// venue's key name is known for the error.

// num is a decimal sent as a JSON string or number, digits kept.
type num struct {
	v  schema.Decimal
	ok bool
}

func (n *num) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	if err := wantScalar(in); err != nil {
		return err
	}
	if in.PeekKind() == 'n' { // null: not sent (it was a zero, sent)
		return in.SkipValue()
	}
	n.ok = true
	return n.v.UnmarshalJSONFrom(in)
}

// optNum is a decimal where "" and null mean "not sent" (Binance and Bybit
// funding rates, Bybit's derivative-only ticker fields on spot).
// sent records that the key was there, even as "" or null.
type optNum struct {
	num
	sent bool
}

func (n *optNum) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	return n.set(v)
}

// set reads v, one JSON value, as UnmarshalJSONFrom does.
func (n *optNum) set(v jsontext.Value) error {
	n.sent = true
	switch {
	case string(v) == `""` || string(v) == "null":
		return nil
	case v[0] != '"' && v[0] != '-' && !isDigit(v[0]):
		return errWantNumber
	}
	n.ok = true
	return n.v.UnmarshalJSON(v)
}

// wantScalar fails unless the next value is a string or a number; null is
// read and reported as absent by the caller seeing ok unset.
func wantScalar(in *jsontext.Decoder) error {
	switch in.PeekKind() {
	case '"', '0', 'n':
		return nil
	case 0:
		_, err := in.ReadValue() // the syntax error
		return err
	}
	_ = in.SkipValue()
	return errWantNumber
}

// integer is an integer sent as a JSON number or string.
type integer struct {
	v  int64
	ok bool
}

func (n *integer) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	if string(v) == "null" {
		return nil
	}
	x, ok := parseInt(unquoted(v))
	if !ok {
		return errWantInteger
	}
	n.v, n.ok = x, true
	return nil
}

// ident is an identifier sent as a string or a non-negative integer; -1 and
// null (the venues' "none") leave it empty.
type ident struct {
	v  schema.ID
	ok bool
}

func (id *ident) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	switch {
	case string(v) == "null" || string(v) == "-1":
		id.ok = true
		return nil
	case v[0] == '"':
		var buf [schemaIDMax + 2]byte
		t, err := unquote(v, buf[:0])
		if err != nil {
			return err
		}
		id.ok = true
		if id.v.SetBytes(t) != nil {
			return fmt.Errorf("%w: %w", ErrBadValue, schema.ErrIDTooLong)
		}
		return nil
	}
	if n, ok := parseInt(v); !ok || n < 0 {
		return errWantID
	}
	id.ok = true
	return id.v.SetBytes(v)
}

// some reports whether an id was sent that is not the venues' "none"
// (null, -1, ""): where the venue always gives one (a trade's), none is
// as good as absent.
func (id *ident) some() bool { return id.ok && len(id.v.Bytes()) > 0 }

// schemaIDMax bounds the unquoted text of an id: longer ones fail in SetBytes.
const schemaIDMax = 64

// text is a short JSON string (a symbol, a channel, an enum word) held in
// place: no allocation, no reference to the input. Longer strings are
// errors.
type text struct {
	b  [maxText]byte
	n  uint8
	ok bool
}

const maxText = 96

func (t *text) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	v, err := readString(in)
	if v == nil || err != nil {
		return err
	}
	return t.set(v)
}

// readString reads a JSON string member: its quoted bytes (valid until the
// decoder's next read), nil for null, errWantString for another kind.
func readString(in *jsontext.Decoder) (jsontext.Value, error) {
	if in.PeekKind() != '"' {
		if in.PeekKind() == 'n' {
			return nil, in.SkipValue()
		}
		if err := in.SkipValue(); err != nil {
			return nil, err
		}
		return nil, errWantString
	}
	return in.ReadValue()
}

func (t *text) set(quoted []byte) error {
	s, err := unquote(quoted, t.b[:0])
	if err != nil {
		return err
	}
	if len(s) > maxText {
		return errTooLong
	}
	t.n, t.ok = uint8(copy(t.b[:], s)), true
	return nil
}

// bytes returns the text; it aliases t.
func (t *text) bytes() []byte { return t.b[:t.n] }

// word is a text that may also be sent as a number (Kraken and Bybit kline
// intervals): the number's digits are its text.
type word struct{ text }

func (w *word) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	if in.PeekKind() != '0' {
		return w.text.UnmarshalJSONFrom(in)
	}
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	if len(v) > maxText {
		return errTooLong
	}
	w.n, w.ok = uint8(copy(w.b[:], v)), true
	return nil
}

// unquote returns the content of the JSON string v, appended to dst when it
// has escapes, else aliasing v.
func unquote(v, dst []byte) ([]byte, error) {
	if len(v) < 2 || v[0] != '"' {
		return nil, errWantString
	}
	inner := v[1 : len(v)-1]
	if !hasEscape(inner) {
		return inner, nil
	}
	if len(inner) > cap(dst) {
		return nil, errTooLong
	}
	return jsontext.AppendUnquote(dst, v)
}

func hasEscape(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// unquoted returns a string value's content without unescaping, or any
// other value as is.
func unquoted(v []byte) []byte {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

// present only records that its key was there.
type present bool

func (p *present) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	*p = true
	return in.SkipValue()
}

// object is a member that must be a JSON object (Binance's "error"): its
// members are decoded into v, anything else is malformed.
type object[T any] struct {
	v  T
	ok bool
}

func (o *object[T]) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	if in.PeekKind() != '{' {
		if err := in.SkipValue(); err != nil {
			return err
		}
		return fieldErr(in, ErrMalformed, false)
	}
	o.ok = true
	// The object's bytes, decoded on their own: json.UnmarshalDecode on the
	// running decoder allocates its state on every call, Unmarshal of a
	// byte slice into a reused struct does not.
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	return json.Unmarshal(v, &o.v)
}

// span is where a value lies in the input being decoded: a payload cut out
// of its envelope without copying it.
type span struct{ from, to int64 }

func (s *span) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	s.from = in.InputOffset()
	err := in.SkipValue()
	s.to = in.InputOffset()
	return err
}

// of returns the value in input (the bytes the span was decoded from), or
// nil when the key was absent.
func (s span) of(input []byte) []byte {
	if s.to <= s.from || s.to > int64(len(input)) {
		return nil
	}
	v := input[s.from:s.to]
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == '\n' || v[0] == '\r' || v[0] == ':' || v[0] == ',') {
		v = v[1:]
	}
	return v
}

// spans records the elements of a JSON array (or a lone object, as one
// element) in reused storage.
type spans struct {
	list  *[]span
	array bool
}

func (s *spans) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	*s.list = (*s.list)[:0]
	switch in.PeekKind() {
	case '{':
		var one span
		err := one.UnmarshalJSONFrom(in)
		*s.list = append(*s.list, one)
		return err
	case '[':
	case 0:
		_, err := in.ReadValue()
		return err
	default:
		if err := in.SkipValue(); err != nil {
			return err
		}
		return errWantArray
	}
	s.array = true
	return tuple(in, func(int) error {
		var one span
		if err := one.UnmarshalJSONFrom(in); err != nil {
			return err
		}
		*s.list = append(*s.list, one)
		return nil
	})
}

// levelShape says how a venue spells one book level: a tuple whose
// elements are at the positions price, qty (and side), or an object with
// the keys priceKey, qtyKey (and sideKey). A level with a side goes to the
// bids or the asks by that side; without one, to the field's own side.
// Elements the shape does not name (Binance's legacy third, OKX's order
// counts, Kraken v1's times) are skipped, or read by onOther.
type levelShape struct {
	price, qty, side          int // tuple positions; side < 0: none
	priceKey, qtyKey, sideKey string
	time                      int // tuple position of a level's time (Kraken v1 seconds); 0: none
}

var tupleLevels = levelShape{price: 0, qty: 1, side: -1}

// levels decodes a book side (or both, for levels that name their side)
// straight into the event's slices, bound before the message is decoded.
type levels struct {
	shape      *levelShape
	bids, asks *[]schema.Level
	latest     int64 // the latest level time (ns), for shapes with one
	ok         bool
}

func (l *levels) bind(shape *levelShape, bids, asks *[]schema.Level) {
	l.shape, l.bids, l.asks = shape, bids, asks
}

func (l *levels) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	if l.bids == nil { // not bound: a struct decoded outside a parser
		return in.SkipValue()
	}
	sh := l.shape
	if sh == nil {
		sh = &tupleLevels
	}
	if in.PeekKind() != '[' {
		if err := in.SkipValue(); err != nil {
			return err
		}
		return fieldErr(in, errLevel, true)
	}
	l.ok = true
	if _, err := in.ReadToken(); err != nil {
		return err
	}
	for {
		var lv schema.Level
		side := schema.SideUnknown
		var err error
		switch in.PeekKind() {
		case ']':
			_, err = in.ReadToken()
			return err
		case '[':
			err = l.tuple(in, sh, &lv, &side)
		case '{':
			err = l.object(in, sh, &lv, &side)
		case 0:
			_, err = in.ReadValue()
			return err
		default:
			_ = in.SkipValue()
			err = errLevel
		}
		if err == nil && lv.Price.IsZero() {
			// No venue's book rests an order at price 0 (every tick is
			// positive): kept, it is a false bottom bid or an ask below
			// every bid; a delete there (quantity 0) names a level no
			// venue has: the message is corrupt (doc.go: "no book level
			// at price 0").
			err = errZeroPrice
		}
		if err != nil {
			return fieldErr(in, err, true)
		}
		switch {
		case sh.side < 0:
			*l.bids = append(*l.bids, lv)
		case side == schema.SideBuy:
			*l.bids = append(*l.bids, lv)
		default:
			*l.asks = append(*l.asks, lv)
		}
	}
}

// tuple reads [a, b, …] by position.
func (l *levels) tuple(in *jsontext.Decoder, sh *levelShape, lv *schema.Level, side *schema.Side) error {
	if _, err := in.ReadToken(); err != nil {
		return err
	}
	have := 0
	for pos := 0; ; pos++ {
		switch in.PeekKind() {
		case ']':
			if _, err := in.ReadToken(); err != nil {
				return err
			}
			if !sh.complete(have) {
				return errLevel
			}
			return nil
		case 0:
			_, err := in.ReadValue()
			return err
		}
		bit, err := l.element(in, sh, pos, lv, side)
		if err != nil {
			return err
		}
		have |= bit
	}
}

// object reads {"price": …, …} by key.
func (l *levels) object(in *jsontext.Decoder, sh *levelShape, lv *schema.Level, side *schema.Side) error {
	if _, err := in.ReadToken(); err != nil {
		return err
	}
	have := 0
	for {
		switch in.PeekKind() {
		case '}':
			if _, err := in.ReadToken(); err != nil {
				return err
			}
			if !sh.complete(have) {
				return errLevel
			}
			return nil
		case 0:
			_, err := in.ReadValue()
			return err
		}
		name, err := in.ReadValue()
		if err != nil {
			return err
		}
		pos := -1
		switch string(unquoted(name)) {
		case sh.priceKey:
			pos = sh.price
		case sh.qtyKey:
			pos = sh.qty
		case sh.sideKey:
			pos = sh.side
		}
		bit, err := l.element(in, sh, pos, lv, side)
		if err != nil {
			return err
		}
		have |= bit
	}
}

// element reads the value at position pos and returns its bit: price 1,
// qty 2, side 4, 0 for a value the shape skips.
func (l *levels) element(in *jsontext.Decoder, sh *levelShape, pos int, lv *schema.Level, side *schema.Side) (int, error) {
	switch {
	case pos < 0:
		return 0, in.SkipValue()
	case pos == sh.price || pos == sh.qty:
		var n num
		if err := n.UnmarshalJSONFrom(in); err != nil {
			return 0, err
		}
		if !n.ok {
			return 0, errLevel
		}
		if n.v.Sign() < 0 {
			return 0, ErrNegative
		}
		if pos == sh.price {
			lv.Price = n.v
			return 1, nil
		}
		lv.Qty = n.v
		return 2, nil
	case pos == sh.side:
		var t text
		if err := t.UnmarshalJSONFrom(in); err != nil {
			return 0, err
		}
		s, ok := sideWords[string(t.bytes())]
		if !ok {
			return 0, errSide
		}
		*side = s
		return 4, nil
	case sh.time > 0 && pos == sh.time:
		var n num
		if err := n.UnmarshalJSONFrom(in); err != nil {
			return 0, err
		}
		if ns, ok := secondsToNanos(n.v); ok && ns > l.latest {
			l.latest = ns
		}
		return 0, nil
	}
	return 0, in.SkipValue()
}

// complete reports whether a level had its price, its quantity and, when
// the shape has one, its side.
func (sh *levelShape) complete(have int) bool {
	return have&3 == 3 && (sh.side < 0 || have&4 != 0)
}

// fieldError names the member whose value failed (goccy's JSON pointer
// names where decoding stopped, which for a book level is inside it).
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// fieldErr wraps err with the member being decoded: the last name of the
// decoder's pointer or, for outer, the last one before any array index.
func fieldErr(in *jsontext.Decoder, err error, outer bool) error {
	return &fieldError{field: pointerField(string(in.StackPointer()), outer), err: err}
}

// pointerField returns the last segment of a JSON pointer ("/k/i" → "i"),
// or for outer the last segment that is not an array index ("/b/0" → "b").
func pointerField(p string, outer bool) string {
	for p != "" {
		i := strings.LastIndexByte(p, '/')
		seg := p[i+1:]
		if !outer || !isIndex(seg) || i <= 0 {
			return strings.NewReplacer("~1", "/", "~0", "~").Replace(seg)
		}
		p = p[:i]
	}
	return ""
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// decodeError turns what goccy returned for a message into the cause and
// the venue's field name: syntax errors are ErrMalformed for the message
// as a whole; a value of the wrong kind is ErrBadValue at its member.
func decodeError(err error) (field string, cause error) {
	var fe *fieldError
	if errors.As(err, &fe) {
		return fe.field, fe.err
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		return "", fmt.Errorf("%w: %w", ErrMalformed, syn)
	}
	var sem *json.SemanticError
	if errors.As(err, &sem) {
		field = pointerField(string(sem.JSONPointer), false)
		if sem.Err != nil {
			if errors.Is(sem.Err, ErrBadValue) || errors.Is(sem.Err, ErrNegative) || errors.Is(sem.Err, ErrMalformed) || isDecimalErr(sem.Err) {
				return field, sem.Err
			}
			var syn *jsontext.SyntacticError
			if errors.As(sem.Err, &syn) {
				return "", fmt.Errorf("%w: %w", ErrMalformed, syn)
			}
		}
		return field, fmt.Errorf("%w: %w", ErrBadValue, sem)
	}
	return "", fmt.Errorf("%w: %w", ErrMalformed, err)
}

func isDecimalErr(err error) bool {
	var de *schema.DecimalError
	return errors.As(err, &de)
}

// parseInt parses an optionally signed run of decimal digits.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func wrapBad(msg string) error { return fmt.Errorf("%w: %s", ErrBadValue, msg) }

var (
	errWantNumber  = wrapBad("want a number")
	errWantInteger = wrapBad("want an integer")
	errWantString  = wrapBad("want a string")
	errWantID      = wrapBad("want a string or non-negative integer id")
	errWantArray   = wrapBad("want an array")
	errTooLong     = wrapBad("string too long")
	errSide        = wrapBad("want buy or sell")
	errWord        = wrapBad("unknown value")
	errLevel       = wrapBad("want [price, quantity] levels")
	errZeroPrice   = wrapBad("book level at price 0")
	errTime        = wrapBad("time out of range")
	errBadRange    = wrapBad("first update id after last")
)

// sideWords are every spelling of a side the venues use: Binance "BUY",
// Bybit "Buy", Coinbase and Kraken "buy", book sides "bid"/"offer"/"ask",
// Kraken v1 "b"/"s".
var sideWords = map[string]schema.Side{
	"BUY": schema.SideBuy, "Buy": schema.SideBuy, "buy": schema.SideBuy, "bid": schema.SideBuy, "b": schema.SideBuy,
	"SELL": schema.SideSell, "Sell": schema.SideSell, "sell": schema.SideSell, "offer": schema.SideSell, "ask": schema.SideSell, "s": schema.SideSell,
}

func opposite(s schema.Side) schema.Side {
	switch s {
	case schema.SideBuy:
		return schema.SideSell
	case schema.SideSell:
		return schema.SideBuy
	}
	return s
}

// maxSeconds keeps seconds × 1e9 inside int64.
const maxSeconds = math.MaxInt64/1_000_000_000 - 1

// secondsToNanos turns Unix seconds with up to nine decimals into ns.
func secondsToNanos(x schema.Decimal) (int64, bool) {
	mant, scale := x.Mantissa(), x.Scale()
	var p int64 = 1
	for range scale {
		p *= 10
	}
	if mant < 0 || scale > 9 || mant/p > maxSeconds {
		return 0, false
	}
	ns := mant / p * 1_000_000_000
	frac := mant % p
	for range 9 - scale {
		frac *= 10
	}
	return ns + frac, true
}

// reason is a venue's free text — an error's message, a refusal's detail —
// decoded into bytes the message struct holds, so that decoding it costs no
// allocation; [Parser.reason] makes it the event's string. A text longer
// than maxReason bytes is kept whole in long (an allocation, for the rare
// long message). Absent or null, it is empty.
type reason struct {
	b    [maxReason]byte
	n    uint16
	long string
}

const maxReason = 256

func (r *reason) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	v, err := readString(in)
	if v == nil || err != nil {
		return err
	}
	s, err := unquote(v, r.b[:0])
	if err != nil {
		return err
	}
	if len(s) > maxReason {
		r.n, r.long = 0, string(s)
		return nil
	}
	r.n, r.long = uint16(copy(r.b[:], s)), ""
	return nil
}

// empty reports that no text was sent (or an empty one).
func (r *reason) empty() bool { return r.n == 0 && r.long == "" }

// bytes returns the text; it aliases r.
func (r *reason) bytes() []byte {
	if r.long != "" {
		return []byte(r.long)
	}
	return r.b[:r.n]
}

// enter reads the opening token of a JSON value of kind ('[' or '{'); a
// value of another kind is skipped and wrong returned.
func enter(in *jsontext.Decoder, kind jsontext.Kind, wrong error) error {
	if in.PeekKind() != kind {
		if err := in.SkipValue(); err != nil {
			return err
		}
		return wrong
	}
	_, err := in.ReadToken()
	return err
}

// tuple reads a JSON array by position (Kraken v1 tuples, OKX candles):
// elem reads, or skips, the element at pos, the decoder before it; a value
// that is not an array is skipped and errWantArray returned.
func tuple(in *jsontext.Decoder, elem func(pos int) error) error {
	if err := enter(in, '[', errWantArray); err != nil {
		return err
	}
	for pos := 0; ; pos++ {
		switch in.PeekKind() {
		case ']':
			_, err := in.ReadToken()
			return err
		case 0:
			_, err := in.ReadValue()
			return err
		}
		if err := elem(pos); err != nil {
			return err
		}
	}
}

// mulRounded returns a × b: exact when a Decimal holds it, otherwise the
// exact product rounded half to even once, at the most digits after the
// point that fit (a Coinbase size of 0.0046830664333996 at 21220.64 is 20
// significant digits, past a Decimal's 64-bit mantissa; a meme coin at
// 0.000012345678 filled 1234.56789012 is exact only at 20 digits after the
// point). A fill's quote amount computed from its price and quantity, where
// Mul would have left it zero. ErrDecimalOverflow when even its integer
// part does not fit.
func mulRounded(a, b schema.Decimal) (schema.Decimal, error) {
	p, err := a.Mul(b)
	if err == nil {
		return p, nil
	}
	for scale := min(a.Scale()+b.Scale(), schema.MaxScale); scale >= 0; scale-- {
		if p, err = a.MulRound(b, scale, schema.RoundHalfEven); !errors.Is(err, schema.ErrDecimalOverflow) {
			return p, err
		}
	}
	return schema.Decimal{}, schema.ErrDecimalOverflow
}
