package normalize

import "context"

// Account updates of OKX, Bybit and Kraken (okx_account.go,
// bybit_account.go, kraken_account.go): a venue message listing several
// assets or positions becomes one schema.EventBalance or
// schema.EventPosition per entry, each placed in its message by Index and
// Count (see package schema), as Binance's are (binance_account.go).

// acctBatch is what the entries of one account message share while they
// are published: their place, and what the message says for all of them.
type acctBatch struct {
	index, count uint32
	reason       string // interned: Bybit's accountType
	ts           int64  // the message's time (OKX account "uTime"), ns; 0 none
	okx          okxAccountMsg
	okxBalPos    okxBalPosMsg
	second       []span // a second list of entries (OKX posData), reused
	bybit        bybitWalletMsg
	okxLiq       okxLiquidationsMsg
	// sym: the venue symbol an element names for its entries (OKX
	// liquidation-orders "instId"), nil when they name their own.
	sym []byte
}

// eachEntry publishes each element of list (spans of input) as an entry
// of one account message: Index counts from 0, Count is len(list). An
// entry that fails is dropped with its *ParseError; the others still
// come. The batch is cleared after, so that a kind run on its own (fuzz)
// is an entry of one.
func (p *Parser) eachEntry(ctx context.Context, k int, input []byte, list []span, sym []byte, ingest int64) error {
	b := &p.acct
	b.index, b.count = 0, uint32(len(list))
	var first error
	for _, s := range list {
		if err := p.run(ctx, k, s.of(input), sym, ingest); err != nil && first == nil {
			first = err
		}
		b.index++
	}
	b.index, b.count, b.reason, b.ts = 0, 0, "", 0
	return first
}

// entry stamps an entry with its place in the message; an entry
// published outside eachEntry is the only one of its message.
func (f *filler) entry(index, count *uint32) {
	b := &f.p.acct
	if b.count == 0 {
		*index, *count = 0, 1
		return
	}
	*index, *count = min(b.index, b.count-1), b.count
}

// nestedEntries publishes, for each element of the envelope's data
// (p.elems), the entries of the element's own array: decode decodes the
// element (binding that array to p.inner, setting what the batch shares)
// and says whether the array was sent; its entries are then one message
// of kind k. name and member name the element and its array in errors.
func (p *Parser) nestedEntries(ctx context.Context, k int, data []byte, name, member string,
	decode func(p *Parser, elem []byte) (sent bool, err error), ingest int64) error {
	var first error
	for _, el := range p.elems {
		elem := el.of(data)
		p.acct.sym = nil
		sent, err := decode(p, elem)
		switch {
		case err != nil:
			err = p.badDecode(name, err)
		case !sent:
			err = p.bad(name, member, ErrMissingField)
		case len(p.inner) == 0:
			p.stats.messages.Add(1) // nothing changed that the element names
		default:
			err = p.eachEntry(ctx, k, elem, p.inner, p.acct.sym, ingest)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	p.acct.sym = nil // no reference into data after the frame
	return first
}

// entryLists publishes the entries of two lists of one message (spans of
// input), those of lists[i] as kind kinds[i], in order: *index counts
// them across both lists, for each entry to stamp its place. An entry
// that fails is dropped with its *ParseError; the others still come.
func (p *Parser) entryLists(ctx context.Context, input []byte, kinds [2]int, lists [2][]span, index *uint32, sym []byte, ingest int64) error {
	var first error
	for i, list := range lists {
		for _, s := range list {
			if err := p.run(ctx, kinds[i], s.of(input), sym, ingest); err != nil && first == nil {
				first = err
			}
			*index++
		}
	}
	return first
}
