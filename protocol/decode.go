package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// fieldSet is what DecodeParams knows of a params type: the keys it
// accepts and those that must be present.
type fieldSet struct {
	allowed  map[string]bool
	required []string
}

var fieldSets sync.Map // reflect.Type -> *fieldSet

func fieldsOf(t reflect.Type) *fieldSet {
	if fs, ok := fieldSets.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{allowed: map[string]bool{}}
	collectFields(t, fs)
	fieldSets.Store(t, fs)
	return fs
}

func collectFields(t reflect.Type, fs *fieldSet) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			collectFields(f.Type, fs)
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs.allowed[name] = true
		if f.Tag.Get("crv") == "required" {
			fs.required = append(fs.required, name)
		}
	}
}

// DecodeParams decodes a request's params into v, a pointer to one of this
// package's params structs, strictly: params must be a JSON object (or
// absent, meaning {}), every key must be one the method takes, required keys
// must be present and not null, and every value must have the right JSON
// type. Any violation is an RPCInvalidParams error naming the key.
func DecodeParams(raw json.RawMessage, v any) *Error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		raw = []byte("{}")
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil || keys == nil {
		return Errorf(RPCInvalidParams, "params must be a JSON object")
	}
	t := reflect.TypeOf(v)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return Errorf(InnerErr, "params target is %T", v)
	}
	fs := fieldsOf(t.Elem())
	for k := range keys {
		if !fs.allowed[k] {
			return Errorf(RPCInvalidParams, "unknown param %q", k)
		}
	}
	for _, k := range fs.required {
		if val, ok := keys[k]; !ok || bytes.Equal(bytes.TrimSpace(val), []byte("null")) {
			return Errorf(RPCInvalidParams, "missing param %q", k)
		}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Errorf(RPCInvalidParams, "param %q must be %s, not %s", te.Field, jsonKind(te.Type), te.Value)
		}
		return Errorf(RPCInvalidParams, "params: %v", err)
	}
	return nil
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("an integer (%s)", t.Kind())
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice:
		return "an array"
	}
	return "an object"
}
