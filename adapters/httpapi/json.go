package httpapi

import (
	"bytes"
	"encoding/json"
)

func jsonDecoder(b []byte) *json.Decoder {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d
}
