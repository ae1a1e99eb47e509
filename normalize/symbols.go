package normalize

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// Instrument is one entry of a venue's instrument list, such as a symbol of
// Binance's exchangeInfo.
type Instrument struct {
	Symbol string // the venue's spelling: "BTCUSDT", "BTCUSD_PERP"
	Base   string // "BTC"
	Quote  string // "USDT"
	// Contract, when set, is the canonical contract suffix ("PERP" or an
	// expiry such as "250328"); otherwise it is read from Symbol by the
	// venue's ContractSep. Venues whose symbols name no quote asset
	// (Coinbase "BIP-20DEC30-CDE") need it.
	Contract string
	// Rules are the instrument's order rules (tick and step sizes,
	// minimum quantity and notional), where the venue's list gives them.
	Rules InstrumentRules
}

// SymbolRules say how a venue spells its symbols. They are data, so that each
// venue brings a table rather than a parser.
type SymbolRules struct {
	// Quotes are the quote assets the fallback tries when a symbol is not in
	// the registry and has no Delimiter: the longest one the symbol ends
	// with wins ("FDUSDUSDT" is FDUSD-USDT, not FDUSDU-SDT).
	Quotes []string
	// Aliases map venue asset names to canonical ones ("XBT": "BTC").
	Aliases map[string]string
	// Delimiter separates base and quote when the venue writes one ('-' for
	// OKX, '/' for Kraken); 0 when it does not (Binance).
	Delimiter byte
	// ContractSep introduces a contract suffix ('_' in Binance's
	// "BTCUSD_PERP" and "BTCUSDT_250328"); the suffix is kept as a third
	// part: "BTC-USD-PERP". 0 when the venue has none.
	ContractSep byte
	// Contracts renames venue contract suffixes to canonical ones (OKX
	// "SWAP" is "PERP"); suffixes not named are kept as sent.
	Contracts map[string]string
	// ContractQuotes, when set, are the quotes the fallback tries first
	// (then Quotes) for a symbol with a contract suffix, the longest first:
	// the assets the venue's contracts settle in (Binance: COIN-M's USD,
	// USDⓈ-M's USDT and USDC, so "DOTUSD_PERP" is DOT-USD-PERP, never
	// DO-TUSD-PERP).
	ContractQuotes []string
}

// maxFallbackCache bounds how many fallback-resolved symbols are remembered
// (and so resolve without allocating); beyond it, garbage symbols cannot
// grow memory without bound.
const maxFallbackCache = 4096

// maxSymbolLen is the longest venue symbol looked up.
const maxSymbolLen = 64

// Symbols maps venue symbols to canonical BASE-QUOTE symbols: first through
// the instruments the host loaded, then by the venue's [SymbolRules]. Every
// symbol it returns is interned: the same string for every message, never a
// slice of a frame. Lookups take no lock and do not allocate once a symbol
// has been seen; loading takes a lock and copies the tables.
//
// Symbols is safe for concurrent use; one registry may serve several parsers
// of the same venue. Make it with [NewSymbols] (the zero value is not usable).
type Symbols struct {
	rules    SymbolRules
	mu       sync.Mutex // serialises writers
	tab      atomic.Pointer[symTables]
	fallback int // entries added by the fallback, under mu
	// recent holds fallback-resolved symbols not yet in tab, under mu. They
	// are published into a new tab once they are as many as half of it, so
	// n new symbols cost O(n) copying in all (geometric growth), not a copy
	// of the table per symbol.
	recent map[string]string
	// past holds symbols the fallback resolved once the tables were full
	// (fallback at maxFallbackCache), under mu: at most maxFallbackCache,
	// one evicted to take a new one, so that a symbol seen again past the
	// bound resolves without allocating and memory stays bounded.
	past   map[string]string
	copied int // table entries copied by publish, for tests
	hits   int // lookups answered from recent since the last publish
}

type symTables struct {
	canon map[string]string // venue symbol (upper case) → canonical
	venue map[string]string // canonical → venue symbol
}

// NewSymbols returns an empty registry that resolves by rules.
func NewSymbols(rules SymbolRules) *Symbols {
	r := rules
	for _, q := range []*[]string{&r.Quotes, &r.ContractQuotes} {
		*q = append([]string(nil), *q...)
		sort.SliceStable(*q, func(i, j int) bool { return len((*q)[i]) > len((*q)[j]) })
	}
	s := &Symbols{rules: r}
	s.tab.Store(&symTables{canon: map[string]string{}, venue: map[string]string{}})
	return s
}

// Load adds (or replaces) instruments. An instrument without a symbol, base
// or quote is an error and nothing is loaded.
func (s *Symbols) Load(ins []Instrument) error {
	for _, in := range ins {
		if in.Symbol == "" || in.Base == "" || in.Quote == "" || len(in.Symbol) > maxSymbolLen {
			return fmt.Errorf("%w: incomplete instrument %+v", ErrBadValue, in)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.tab.Load()
	t := &symTables{canon: make(map[string]string, len(old.canon)+len(s.recent)+len(ins)), venue: make(map[string]string, len(old.venue)+len(ins))}
	for k, v := range old.canon {
		t.canon[k] = v
	}
	for k, v := range s.recent {
		t.canon[k] = v
	}
	clear(s.recent)
	for k, v := range old.venue {
		t.venue[k] = v
	}
	for _, in := range ins {
		sym := asciiUpper(in.Symbol)
		canon := s.alias(asciiUpper(in.Base)) + "-" + s.alias(asciiUpper(in.Quote))
		if c := asciiUpper(in.Contract); c != "" {
			canon += "-" + c
		} else if _, suffix := s.splitContract(sym); suffix != "" {
			canon += "-" + s.contract(suffix)
		}
		t.canon[sym] = canon
		t.venue[canon] = in.Symbol
	}
	s.tab.Store(t)
	return nil
}

func (s *Symbols) alias(asset string) string {
	if a, ok := s.rules.Aliases[asset]; ok {
		return a
	}
	return asset
}

// Lookup returns the canonical symbol of a venue symbol, in any letter case.
// It does not allocate for a symbol it has resolved before.
func (s *Symbols) Lookup(venueSym []byte) (string, error) {
	if len(venueSym) == 0 || len(venueSym) > maxSymbolLen {
		return "", fmt.Errorf("%w: %q", ErrUnknownSymbol, venueSym)
	}
	var buf [maxSymbolLen]byte
	up := buf[:len(venueSym)]
	for i, c := range venueSym {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	if c, ok := s.tab.Load().canon[string(up)]; ok {
		return c, nil
	}
	s.mu.Lock()
	c, ok := s.recent[string(up)]
	if ok {
		// Symbols seen again go into the lock-free table soon.
		if s.hits++; s.hits >= 1024 {
			s.publish(s.tab.Load())
		}
	} else {
		c, ok = s.past[string(up)] // past the tables' bound
	}
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	return s.resolve(string(up))
}

// LookupString is Lookup for a string.
func (s *Symbols) LookupString(venueSym string) (string, error) {
	if c, ok := s.tab.Load().canon[venueSym]; ok {
		return c, nil
	}
	return s.Lookup([]byte(venueSym))
}

// VenueSymbol returns the venue's spelling of a canonical symbol: the
// loaded one, or the canonical parts joined by the venue's rules.
func (s *Symbols) VenueSymbol(canonical string) (string, error) {
	if v, ok := s.tab.Load().venue[canonical]; ok {
		return v, nil
	}
	parts := strings.Split(canonical, "-")
	if len(parts) < 2 || len(parts) > 3 || !isAlnum(parts[0]) || !isAlnum(parts[1]) {
		return "", fmt.Errorf("%w: %q is not BASE-QUOTE", ErrUnknownSymbol, canonical)
	}
	v := parts[0]
	if s.rules.Delimiter != 0 {
		v += string(s.rules.Delimiter)
	}
	v += parts[1]
	if len(parts) == 3 {
		if s.rules.ContractSep == 0 || !isAlnum(parts[2]) {
			return "", fmt.Errorf("%w: %q", ErrUnknownSymbol, canonical)
		}
		c := parts[2]
		for venue, canon := range s.rules.Contracts {
			if canon == c {
				c = venue
			}
		}
		v += string(s.rules.ContractSep) + c
	}
	return v, nil
}

// resolve applies the fallback rules to an upper-case venue symbol and
// remembers the answer.
func (s *Symbols) resolve(sym string) (string, error) {
	main, suffix := s.splitContract(sym)
	if len(main) < len(sym) && !isAlnum(suffix) { // "BTCUSD_"
		return "", fmt.Errorf("%w: %q", ErrUnknownSymbol, sym)
	}
	base, quote := "", ""
	if d := s.rules.Delimiter; d != 0 {
		if i := strings.IndexByte(main, d); i >= 0 {
			base, quote = main[:i], main[i+1:]
		}
	} else {
		if suffix != "" {
			base, quote = endingQuote(main, s.rules.ContractQuotes)
		}
		if quote == "" {
			base, quote = endingQuote(main, s.rules.Quotes)
		}
	}
	if !isAlnum(base) || !isAlnum(quote) {
		return "", fmt.Errorf("%w: %q is not in the registry and ends in no known quote asset", ErrUnknownSymbol, sym)
	}
	canon := s.alias(base) + "-" + s.alias(quote)
	if suffix != "" {
		canon += "-" + s.contract(suffix)
	}
	s.remember(sym, canon)
	return canon, nil
}

// splitContract splits a contract suffix off a venue symbol: after the
// first ContractSep, or — when the venue writes the same byte between base
// and quote (OKX "BTC-USDT-SWAP") — after the second.
func (s *Symbols) splitContract(sym string) (main, suffix string) {
	sep := s.rules.ContractSep
	if sep == 0 {
		return sym, ""
	}
	from := 0
	if sep == s.rules.Delimiter {
		if from = strings.IndexByte(sym, sep) + 1; from == 0 {
			return sym, ""
		}
	}
	i := strings.IndexByte(sym[from:], sep)
	if i < 0 {
		return sym, ""
	}
	return sym[:from+i], sym[from+i+1:]
}

// endingQuote splits main before the first of quotes it ends with (after
// at least one byte of base); "", "" when none.
func endingQuote(main string, quotes []string) (base, quote string) {
	for _, q := range quotes {
		if len(main) > len(q) && strings.HasSuffix(main, q) {
			return main[:len(main)-len(q)], q
		}
	}
	return "", ""
}

func (s *Symbols) contract(suffix string) string {
	if c, ok := s.rules.Contracts[suffix]; ok {
		return c
	}
	return suffix
}

func (s *Symbols) remember(sym, canon string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.tab.Load()
	if _, ok := old.canon[sym]; ok {
		return
	}
	if _, ok := s.recent[sym]; ok {
		return
	}
	if s.fallback >= maxFallbackCache {
		s.rememberPast(sym, canon)
		return
	}
	if s.recent == nil {
		s.recent = make(map[string]string)
	}
	s.recent[sym] = canon
	s.fallback++
	if len(s.recent) >= len(old.canon)/2+8 {
		s.publish(old)
	}
}

// rememberPast keeps a symbol resolved past the tables' bound in past
// (under mu), evicting an arbitrary one when it is full.
func (s *Symbols) rememberPast(sym, canon string) {
	if s.past == nil {
		s.past = make(map[string]string)
	}
	if _, ok := s.past[sym]; !ok && len(s.past) >= maxFallbackCache {
		for k := range s.past {
			delete(s.past, k)
			break
		}
	}
	s.past[sym] = canon
}

// publish copies tab and the recent symbols into a new tab (under mu).
func (s *Symbols) publish(old *symTables) {
	t := &symTables{canon: make(map[string]string, len(old.canon)+len(s.recent)), venue: old.venue}
	for k, v := range old.canon {
		t.canon[k] = v
	}
	for k, v := range s.recent {
		t.canon[k] = v
	}
	s.copied += len(t.canon)
	s.hits = 0
	clear(s.recent)
	s.tab.Store(t)
}

// isAlnum reports whether s is a non-empty run of letters and digits of
// any script (Binance lists base assets written in Chinese characters),
// valid UTF-8.
func isAlnum(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < utf8.RuneSelf {
			if !isAlnumByte(byte(r)) {
				return false
			}
		} else if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// asciiUpper upper-cases ASCII letters only, as Lookup folds: other
// scripts are kept as listed.
func asciiUpper(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isAlnumByte(c byte) bool {
	return isDigit(c) || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z')
}
