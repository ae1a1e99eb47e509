package venuesim_test

import (
	"errors"
	"io"
	"net/http"

	json "github.com/goccy/go-json"
)

func httpGetJSON(url string) (map[string]any, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(string(body))
	}
	var m map[string]any
	return m, json.Unmarshal(body, &m)
}
