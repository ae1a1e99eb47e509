// Package corpus holds the Binance messages every comparison in the
// benchmarks module feeds to both pipelines: one of each type Meltica's
// ingest path handles, as combined-stream frames the way a multi-symbol
// connection receives them.
package corpus

import "bytes"

// Message is one named frame.
type Message struct {
	Name  string
	Frame []byte
}

// Messages are the frames, by benchmark name.
var Messages = []Message{
	{"trade", []byte(`{"stream":"btcusdt@trade","data":{"e":"trade","E":1700000000123,"s":"BTCUSDT","t":4012345678,"p":"67321.45000000","q":"0.01230000","T":1700000000121,"m":true,"M":true}}`)},
	{"aggTrade", []byte(`{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1700000000123,"s":"BTCUSDT","a":3012345678,"p":"67321.45000000","q":"0.01230000","f":4012345670,"l":4012345678,"T":1700000000121,"m":false,"M":true}}`)},
	{"bookTicker", []byte(`{"stream":"btcusdt@bookTicker","data":{"u":71234567890,"s":"BTCUSDT","b":"67321.44000000","B":"1.20300000","a":"67321.45000000","A":"0.50100000"}}`)},
	{"depth", []byte(`{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1700000000123,"s":"BTCUSDT","U":71234567891,"u":71234567910,` +
		`"b":[["67321.44000000","1.20300000"],["67321.43000000","0.00000000"],["67321.40000000","2.50000000"],["67321.38000000","0.01000000"],["67321.30000000","5.00000000"],` +
		`["67321.20000000","0.31000000"],["67321.10000000","1.00000000"],["67321.00000000","12.00000000"],["67320.90000000","0.20000000"],["67320.80000000","0.75000000"]],` +
		`"a":[["67321.45000000","0.50100000"],["67321.46000000","0.00000000"],["67321.50000000","3.10000000"],["67321.60000000","0.04000000"],["67321.70000000","1.90000000"],` +
		`["67321.80000000","0.61000000"],["67321.90000000","2.00000000"],["67322.00000000","8.00000000"],["67322.10000000","0.10000000"],["67322.20000000","0.95000000"]]}}`)},
	{"executionReport", []byte(`{"subscriptionId":0,"event":{"e":"executionReport","E":1700000000123,"s":"BTCUSDT","c":"web_54d9b18d8e7a4caf9d1495","S":"BUY","o":"LIMIT","f":"GTC","q":"0.10000000","p":"67321.45000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":28534864,"l":"0.04000000","z":"0.04000000","L":"67321.45000000","n":"0.00004000","N":"BTC","T":1700000000121,"t":4012345679,"I":570913853,"w":false,"m":true,"M":true,"O":1700000000001,"Z":"2692.85800000","Y":"2692.85800000","Q":"0.00000000","W":1700000000001,"V":"EXPIRE_MAKER"}}`)},
}

// Frames returns the frames alone, in order.
func Frames() [][]byte {
	out := make([][]byte, len(Messages))
	for i, m := range Messages {
		out[i] = m.Frame
	}
	return out
}

// counter is one venue sequence number in a frame: its digits at
// frame[at:at+width], its value in the first pass, and how much it
// advances per pass.
type counter struct {
	at, width int
	base      uint64
	step      uint64
}

// Stream replays the corpus as a venue would send it: frame after frame,
// and on every pass through the corpus each sequence the venue numbers
// moves on — trade ids ("t"), aggregate trade ids ("a", "f", "l"), the
// bookTicker update id ("u") and the depth diff's range ("U"/"u", the next
// diff starting where the last ended) — so a pipeline that checks
// continuity sees one unbroken stream, never a repeat or a gap. The numbers
// are rewritten in place at their fixed width; the cost is the same for
// every pipeline and small against a frame's decoding.
//
// A Stream is not safe for concurrent use. The frame Next returns is valid
// until the next call.
type Stream struct {
	frames   [][]byte
	counters [][]counter
	pass     uint64
	i        int
}

// sequences names each message's sequence fields; the step of each is how
// far it advances per pass.
var sequences = map[string][]struct {
	key  string
	step func(frame []byte) uint64
}{
	"trade":      {{`"t":`, one}},
	"aggTrade":   {{`"a":`, one}, {`"f":`, span(`"f":`, `"l":`)}, {`"l":`, span(`"f":`, `"l":`)}},
	"bookTicker": {{`"u":`, one}},
	"depth":      {{`"U":`, span(`"U":`, `"u":`)}, {`"u":`, span(`"U":`, `"u":`)}},
	// The fill's trade id: a fill of the same order and trade id again is a
	// repeat that Meltica drops.
	"executionReport": {{`"t":`, one}},
}

func one([]byte) uint64 { return 1 }

// span is the step of a range first…last: last − first + 1.
func span(first, last string) func([]byte) uint64 {
	return func(f []byte) uint64 { return number(f, last).base - number(f, first).base + 1 }
}

// number finds the unsigned integer after key.
func number(frame []byte, key string) counter {
	at := bytes.Index(frame, []byte(key))
	if at < 0 {
		panic("corpus: no " + key + " in " + string(frame))
	}
	at += len(key)
	c := counter{at: at}
	for c.at+c.width < len(frame) && frame[c.at+c.width] >= '0' && frame[c.at+c.width] <= '9' {
		c.base = c.base*10 + uint64(frame[c.at+c.width]-'0')
		c.width++
	}
	return c
}

// NewStream returns a stream over copies of Messages' frames.
func NewStream() *Stream {
	s := &Stream{}
	for _, m := range Messages {
		f := bytes.Clone(m.Frame)
		var cs []counter
		for _, q := range sequences[m.Name] {
			c := number(f, q.key)
			c.step = q.step(f)
			cs = append(cs, c)
		}
		s.frames = append(s.frames, f)
		s.counters = append(s.counters, cs)
	}
	return s
}

// Next returns the next frame of the stream.
func (s *Stream) Next() []byte {
	if s.i == len(s.frames) {
		s.i = 0
		s.pass++
	}
	f := s.frames[s.i]
	if s.pass > 0 {
		for _, c := range s.counters[s.i] {
			v := c.base + s.pass*c.step
			for j := c.at + c.width - 1; j >= c.at; j-- {
				f[j] = byte('0' + v%10)
				v /= 10
			}
			if v != 0 {
				panic("corpus: a sequence outgrew its digits")
			}
		}
	}
	s.i++
	return f
}
