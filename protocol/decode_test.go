package protocol

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDecodeParamsStrict(t *testing.T) {
	cases := []struct {
		raw  string
		code Code // 0: success
	}{
		{``, RPCInvalidParams},                       // call needs callID and calledUserID
		{`{"callID":"a","calledUserID":"b"}`, NoErr}, // minimal
		{`{"callID":"a","calledUserID":"b","meetObj":{"ID":7,"pswd":"x"},"usrExtDat":"e"}`, NoErr},
		{`{"callID":"a"}`, RPCInvalidParams},
		{`{"callID":"a","calledUserID":null}`, RPCInvalidParams},
		{`{"callID":"a","calledUserID":"b","cookie":"c"}`, RPCInvalidParams},
		{`{"callID":1,"calledUserID":"b"}`, RPCInvalidParams},
		{`{"callID":"a","calledUserID":"b","meetObj":{"ID":"7"}}`, RPCInvalidParams},
		{`[]`, RPCInvalidParams},
		{`"s"`, RPCInvalidParams},
	}
	for _, tc := range cases {
		var p CallParams
		e := DecodeParams(json.RawMessage(tc.raw), &p)
		if got := CodeOf(errOrNil(e)); got != tc.code {
			t.Errorf("%s: code %d (%v), want %d", tc.raw, got, e, tc.code)
		}
	}
	var p CallParams
	if e := DecodeParams(json.RawMessage(`{"callID":"a","calledUserID":"b","meetObj":{"ID":7,"pswd":"x"}}`), &p); e != nil ||
		p.CallID != "a" || p.MeetObj == nil || p.MeetObj.ID != 7 || p.MeetObj.Pswd != "x" {
		t.Fatalf("decoded %+v (%v)", p, e)
	}
	// Methods without params accept absent, null and {}.
	for _, raw := range []string{``, `null`, `{}`} {
		if e := DecodeParams(json.RawMessage(raw), &Empty{}); e != nil {
			t.Errorf("%q: %v", raw, e)
		}
	}
	if e := DecodeParams(json.RawMessage(`{"x":1}`), &Empty{}); e == nil {
		t.Error("extra key accepted by a method without params")
	}
}

func errOrNil(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

func TestLoginAliases(t *testing.T) {
	var p LoginParams
	raw := `{"authAcnt":"app","authPswd":"md5","nickName":"N","privAcnt":"u","privAuthCode":"jwt"}`
	if e := DecodeParams(json.RawMessage(raw), &p); e != nil {
		t.Fatal(e)
	}
	p.Normalize()
	want := LoginParams{AppID: "app", AppSecret: "md5", NickName: "N", UserID: "u", UserAuthCode: "jwt"}
	if p != want {
		t.Fatalf("normalized %+v, want %+v", p, want)
	}
}

func TestValidID(t *testing.T) {
	for raw, ok := range map[string]bool{`1`: true, `-2`: true, `"x"`: true, `1.5`: true, `null`: false,
		`{}`: false, `[]`: false, `true`: false, `"unterminated`: false, ``: false} {
		if ValidID(json.RawMessage(raw)) != ok {
			t.Errorf("ValidID(%s) != %v", raw, ok)
		}
	}
}

func TestCodeOf(t *testing.T) {
	if CodeOf(nil) != NoErr || CodeOf(Errorf(ErrBusy, "x")) != ErrBusy || CodeOf(json.Unmarshal([]byte("x"), new(int))) != UnknownErr {
		t.Fatal("CodeOf")
	}
	if ErrBusy.String() != "ERR_BUSY" || Code(12345).String() != "CODE_12345" {
		t.Fatal("Code.String")
	}
}

// FuzzDecodeParams checks decode → encode → decode: what the strict
// decoder accepts survives a round trip unchanged.
func FuzzDecodeParams(f *testing.F) {
	for _, s := range []string{`{"callID":"a","calledUserID":"b"}`, `{"callID":"a","calledUserID":"b","meetObj":{"ID":1}}`, `{}`, `[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p CallParams
		if DecodeParams(data, &p) != nil {
			return
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var q CallParams
		if e := DecodeParams(b, &q); e != nil {
			t.Fatalf("re-decode %s: %v", b, e)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip %+v != %+v", p, q)
		}
	})
}
