package normalize

import (
	"context"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/meltica/meltica/schema"
)

// Plain structs for the baseline: what a bare goccy Unmarshal of the same
// message costs, before any of our work (symbols, decimals, pooling). Both
// cases of a letter are declared because goccy matches keys
// case-insensitively (a lone "t" field would receive "T").
type (
	plainTrade struct {
		Ev    string `json:"e"`
		EvT   int64  `json:"E"`
		Sym   string `json:"s"`
		ID    int64  `json:"t"`
		AggID int64  `json:"a"`
		P     string `json:"p"`
		Q     string `json:"q"`
		F     int64  `json:"f"`
		L     int64  `json:"l"`
		T     int64  `json:"T"`
		M     bool   `json:"m"`
		MM    bool   `json:"M"`
	}
	plainBookTicker struct {
		U    int64  `json:"u"`
		S    string `json:"s"`
		BidP string `json:"b"`
		BidQ string `json:"B"`
		AskP string `json:"a"`
		AskQ string `json:"A"`
	}
	plainDepth struct {
		E    string     `json:"e"`
		ET   int64      `json:"E"`
		S    string     `json:"s"`
		U    int64      `json:"U"`
		Last int64      `json:"u"`
		B    [][]string `json:"b"`
		A    [][]string `json:"a"`
	}
	plainKline struct {
		E  string `json:"e"`
		ET int64  `json:"E"`
		S  string `json:"s"`
		K  struct {
			T0 int64  `json:"t"`
			T1 int64  `json:"T"`
			S  string `json:"s"`
			I  string `json:"i"`
			F  int64  `json:"f"`
			L  int64  `json:"L"`
			O  string `json:"o"`
			C  string `json:"c"`
			H  string `json:"h"`
			Lo string `json:"l"`
			V  string `json:"v"`
			N  int64  `json:"n"`
			X  bool   `json:"x"`
			Q  string `json:"q"`
			VV string `json:"V"`
			QQ string `json:"Q"`
			B  string `json:"B"`
		} `json:"k"`
	}
	plainTicker struct {
		E  string `json:"e"`
		ET int64  `json:"E"`
		S  string `json:"s"`
		P  string `json:"p"`
		PP string `json:"P"`
		W  string `json:"w"`
		X  string `json:"x"`
		C  string `json:"c"`
		CC int64  `json:"C"`
		Q  string `json:"q"`
		QQ string `json:"Q"`
		B  string `json:"b"`
		BB string `json:"B"`
		A  string `json:"a"`
		AA string `json:"A"`
		O  string `json:"o"`
		OO int64  `json:"O"`
		H  string `json:"h"`
		L  string `json:"l"`
		LL int64  `json:"L"`
		V  string `json:"v"`
		F  int64  `json:"F"`
		N  int64  `json:"n"`
	}
	plainExec struct {
		E  string `json:"e"`
		ET int64  `json:"E"`
		S  string `json:"s"`
		C  string `json:"c"`
		CC string `json:"C"`
		Sd string `json:"S"`
		O  string `json:"o"`
		OO int64  `json:"O"`
		F  string `json:"f"`
		FF string `json:"F"`
		Q  string `json:"q"`
		QQ string `json:"Q"`
		P  string `json:"p"`
		PP string `json:"P"`
		X  string `json:"x"`
		XX string `json:"X"`
		R  string `json:"r"`
		I  int64  `json:"i"`
		II int64  `json:"I"`
		L  string `json:"l"`
		LL string `json:"L"`
		Z  string `json:"z"`
		ZZ string `json:"Z"`
		N  string `json:"n"`
		NN string `json:"N"`
		T  int64  `json:"t"`
		TT int64  `json:"T"`
		M  bool   `json:"m"`
		MM bool   `json:"M"`
		W  bool   `json:"w"`
		WW int64  `json:"W"`
		G  int64  `json:"g"`
		Y  string `json:"Y"`
		V  string `json:"V"`
	}
	plainMark struct {
		E  string `json:"e"`
		ET int64  `json:"E"`
		S  string `json:"s"`
		P  string `json:"p"`
		PP string `json:"P"`
		I  string `json:"i"`
		R  string `json:"r"`
		T  int64  `json:"T"`
	}
	plainForce struct {
		E  string `json:"e"`
		ET int64  `json:"E"`
		O  struct {
			S  string `json:"s"`
			SS string `json:"S"`
			O  string `json:"o"`
			F  string `json:"f"`
			Q  string `json:"q"`
			P  string `json:"p"`
			AP string `json:"ap"`
			X  string `json:"X"`
			L  string `json:"l"`
			Z  string `json:"z"`
			T  int64  `json:"T"`
		} `json:"o"`
	}
	plainCombined struct {
		Stream string     `json:"stream"`
		Data   plainTrade `json:"data"`
	}
)

type benchCase struct {
	name  string
	msgs  func(i int) []byte // message i; depth diffs continue each other
	plain func() any
}

func benchCases(b *testing.B) []benchCase {
	return []benchCase{
		{"trade", fixed(fixture(b, "trade")), func() any { return new(plainTrade) }},
		{"aggTrade", fixed(fixture(b, "aggTrade")), func() any { return new(plainTrade) }},
		{"combinedTrade", fixed(fixture(b, "combined_trade")), func() any { return new(plainCombined) }},
		{"bookTicker", fixed(fixture(b, "bookTicker_raw")), func() any { return new(plainBookTicker) }},
		{"depthUpdate20", func(i int) []byte { return depthN(i, 20, false) }, func() any { return new(plainDepth) }},
		{"kline", fixed(fixture(b, "kline_closed")), func() any { return new(plainKline) }},
		{"24hrTicker", fixed(fixture(b, "ticker")), func() any { return new(plainTicker) }},
		{"24hrMiniTicker", fixed(fixture(b, "miniTicker")), func() any { return new(plainTicker) }},
		{"executionReport", fixed(fixture(b, "exec_partial")), func() any { return new(plainExec) }},
		{"markPriceUpdate", fixed(fixture(b, "markPrice")), func() any { return new(plainMark) }},
		{"forceOrder", fixed(fixture(b, "forceOrder")), func() any { return new(plainForce) }},
	}
}

// BenchmarkBinance compares, per message type, the whole normalize step
// (envelope, decode, symbol, decimals, pooled event, sink) with a bare goccy
// Unmarshal of the same bytes into a plain struct, plain and with
// DecodeNoCopyString.
//
//	go test -run xxx -bench BenchmarkBinance -benchmem ./normalize/
func BenchmarkBinance(b *testing.B) {
	for _, bc := range benchCases(b) {
		const ring = 4096 // depth diffs: consecutive ids, one break per ring
		msgs := make([][]byte, ring)
		for i := range msgs {
			msgs[i] = bc.msgs(i)
		}
		b.Run(bc.name+"/normalize", func(b *testing.B) {
			events := schema.NewPools(nil).Events
			p := NewBinance(events, &putSink{events: events}, nil)
			ctx := context.Background()
			_ = p.HandleBytes(ctx, msgs[0], 1)
			b.SetBytes(int64(len(msgs[0])))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.HandleBytes(ctx, msgs[i%ring], 1); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/goccy", func(b *testing.B) {
			v := bc.plain()
			_ = json.Unmarshal(msgs[0], v) // compile the type first
			b.SetBytes(int64(len(msgs[0])))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := json.Unmarshal(msgs[i%ring], v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/goccy-nocopy", func(b *testing.B) {
			v := bc.plain()
			_ = json.UnmarshalWithOption(msgs[0], v, json.DecodeNoCopyString())
			b.SetBytes(int64(len(msgs[0])))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := json.UnmarshalWithOption(msgs[i%ring], v, json.DecodeNoCopyString()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
