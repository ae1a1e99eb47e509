package venuesim_test

import (
	"context"
	"fmt"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"

	"github.com/meltica/meltica/venuesim"
)

func Example() {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 500})
	defer v.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
	if err != nil {
		panic(err)
	}
	defer func() { _ = c.CloseNow() }()
	_, msg, err := c.Read(ctx)
	if err != nil {
		panic(err)
	}
	var trade struct {
		Type   string `json:"e"`
		Symbol string `json:"s"`
	}
	_ = json.Unmarshal(msg, &trade)
	fmt.Println(trade.Type, trade.Symbol)
	// Output:
	// trade BTCUSDT
}

func ExampleVenue_Inject() {
	v := venuesim.Start(nil)
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, v.StreamURL("ethusdt@depth"), nil)
	if err != nil {
		panic(err)
	}
	defer func() { _ = c.CloseNow() }()
	if _, _, err := c.Read(ctx); err != nil {
		panic(err)
	}
	v.Inject(venuesim.FaultClose)
	for {
		if _, _, err = c.Read(ctx); err != nil {
			break
		}
	}
	fmt.Println(websocket.CloseStatus(err))
	// Output:
	// StatusNormalClosure
}
