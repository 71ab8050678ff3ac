package shopify

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/core"
)

// fieldError is what the JSON field types below return. It is a
// *json.UnmarshalTypeError so that encoding/json adds the field path,
// which decodeJSON puts into the EINVALID message (never the value).
func fieldError(want string, v any) error {
	return &json.UnmarshalTypeError{Value: want, Type: reflect.TypeOf(v)}
}

const (
	wantID      = "an unsigned 64-bit integer id"
	wantInt     = "an integer"
	wantDecimal = "a plain decimal amount"
	wantString  = "a string"
)

// jsonID is a Shopify numeric id. It accepts a JSON integer or a string of
// digits, never goes through float64, and keeps the canonical decimal
// form. null or absent leaves it empty.
type jsonID string

func (id *jsonID) UnmarshalJSON(b []byte) error {
	s, null, err := scalarText(b)
	if err != nil {
		return fieldError(wantID, *id)
	}
	if null {
		*id = ""
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || !isDigits(s) {
		return fieldError(wantID, *id)
	}
	*id = jsonID(strconv.FormatInt(v, 10))
	return nil
}

// jsonInt is an integer count (a quantity). It accepts a JSON integer or a
// string of digits with an optional minus sign; null leaves it unset.
type jsonInt struct {
	V   int64
	Set bool
}

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	s, null, err := scalarText(b)
	if err != nil {
		return fieldError(wantInt, *n)
	}
	if null {
		*n = jsonInt{}
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fieldError(wantInt, *n)
	}
	*n = jsonInt{V: v, Set: true}
	return nil
}

// plainDecimalRE is the only amount syntax we accept: Shopify sends plain
// decimal strings ("12.50"). Exponents ("1e-999999999") are refused
// because rescaling them would cost unbounded time and memory.
var plainDecimalRE = regexp.MustCompile(`^-?[0-9]{1,20}(\.[0-9]{1,20})?$`)

// jsonDecimal is a money amount given as a decimal string (Shopify's
// *_set amounts) or, in a few legacy fields, a bare JSON number. It is
// validated syntactically on decode and against the currency scale later.
type jsonDecimal struct {
	D   decimal.Decimal
	Set bool
}

func (d *jsonDecimal) UnmarshalJSON(b []byte) error {
	s, null, err := scalarText(b)
	if err != nil {
		return fieldError(wantDecimal, *d)
	}
	if null {
		*d = jsonDecimal{}
		return nil
	}
	s = strings.TrimSpace(s)
	if !plainDecimalRE.MatchString(s) {
		return fieldError(wantDecimal, *d)
	}
	v, err := decimal.NewFromString(s)
	if err != nil {
		return fieldError(wantDecimal, *d)
	}
	*d = jsonDecimal{D: v, Set: true}
	return nil
}

// jsonText is a string field that tolerates null and bare scalars (some
// attribute values are numbers); objects and arrays are refused.
type jsonText string

// seenText is a jsonText that records whether its key was present (a
// null included).
type seenText struct {
	jsonText
	seen bool
}

func (t *seenText) UnmarshalJSON(b []byte) error {
	t.seen = true
	return t.jsonText.UnmarshalJSON(b)
}

func (t *jsonText) UnmarshalJSON(b []byte) error {
	s, null, err := scalarText(b)
	if err != nil {
		return fieldError(wantString, *t)
	}
	if null {
		*t = ""
		return nil
	}
	*t = jsonText(s)
	return nil
}

// scalarText returns the text of a JSON string, number or boolean, and
// whether the value is null.
func scalarText(b []byte) (string, bool, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return "", false, errors.New("not a scalar")
	case string(b) == "null":
		return "", true, nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false, err
		}
		return s, false, nil
	case b[0] == '{' || b[0] == '[':
		return "", false, errors.New("not a scalar")
	}
	return string(b), false, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decodeJSON decodes a webhook body into v and maps every failure to an
// EINVALID *core.Error whose message names the payload kind and the field,
// never the payload content.
func decodeJSON(kind string, body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return core.Errorf(core.EINVALID, "shopify %s payload: %s", kind, describeJSONError(err))
	}
	if dec.More() {
		return core.Errorf(core.EINVALID, "shopify %s payload: trailing data after the JSON object", kind)
	}
	return nil
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "malformed JSON at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		switch typ.Type {
		case reflect.TypeFor[jsonID](), reflect.TypeFor[jsonInt](), reflect.TypeFor[jsonDecimal](), reflect.TypeFor[jsonText]():
			return "field " + field + " is not " + typ.Value
		}
		return "field " + field + " cannot hold a JSON " + typ.Value
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or truncated JSON"
	}
	return "malformed JSON"
}

// parseTime parses an RFC 3339 timestamp; empty means zero time.
func parseTime(kind, field string, s jsonText) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, string(s))
	if err != nil {
		return time.Time{}, core.Errorf(core.EINVALID, "shopify %s payload: %s is not an RFC 3339 time", kind, field)
	}
	return t, nil
}
