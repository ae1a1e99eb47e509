package normalize

import "github.com/meltica/meltica/schema"

// OKX's message types as tables: each decodes one element of "data".

var (
	okxTrade = newTable("trades", "",
		fSymbol("instId"),
		field{key: "tradeId", kind: kSeqID, u64: seq, id: tradeID},
		fPrice("px", tradePrice),
		fPrice("sz", tradeQty),
		fSide("side", tradeSide),
		fMillis("ts", mainTime),
	)
	okxTicker = newTable("tickers", "",
		fSymbol("instId"),
		fPrice("last", tkLast),
		fPrice("lastSz", tkLastQty),
		fPrice("askPx", tkAsk),
		fPrice("askSz", tkAskQty),
		fPrice("bidPx", tkBid),
		fPrice("bidSz", tkBidQty),
		fPrice("open24h", tkOpen),
		fPrice("high24h", tkHigh),
		fPrice("low24h", tkLow),
		fPrice("vol24h", tkVolume),
		fPrice("volCcy24h", tkQuoteVol), // spot: quote currency
		fMillis("ts", mainTime),
	)
	// okxBook: levels are [price, qty, "0", orders]; prevSeqId is -1 in a
	// snapshot.
	okxBook = newTable("books", "",
		fLevels("bids", bids),
		fLevels("asks", asks),
		fMillis("ts", mainTime),
		fChecksum("checksum"),
		field{key: "seqId", kind: kSeq, u64: func(t *target) *uint64 { return &t.ev.Book.LastSeq }},
		field{key: "prevSeqId", kind: kSeq, u64: func(t *target) *uint64 { return &t.ev.Book.PrevSeq }},
	)
	okxFunding = newTable("funding-rate", "",
		fSymbol("instId"),
		fDecimal("fundingRate", func(t *target) *schema.Decimal { return &t.ev.Mark.FundingRate }),
		fMillis("fundingTime", func(t *target) *int64 { return &t.ev.Mark.NextFundingTime }),
		fMillis("ts", mainTime),
	)
	okxMark = newTable("mark-price", "",
		fSymbol("instId"),
		fPrice("markPx", func(t *target) *schema.Decimal { return &t.ev.Mark.MarkPrice }),
		fMillis("ts", mainTime),
	)
	// okxEvent: acks, errors and notices; code is a string ("60012").
	okxEvent = newTable("event", "",
		fReqID("id"),
		field{key: "code", kind: kInt, i64: code},
		fText("msg", reason),
	)
)
