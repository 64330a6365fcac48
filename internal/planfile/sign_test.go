package planfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/diff"
)

func signed(t *testing.T, key string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := EncodeSigned(&b, samplePlan(), []byte(key)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// editDoc rewrites the document's JSON, as someone editing the artifact would.
func editDoc(t *testing.T, data []byte, f func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	f(doc)
	out, err := json.MarshalIndent(doc, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// verify checks data's signature alone, as Saved.Verify does once Read has
// validated the rest.
func verify(data, key []byte) error {
	canon, signature, err := canonical(data)
	if err != nil {
		return err
	}
	return (&Saved{canon: canon, signature: signature}).Verify(key)
}

func TestSignedPlan(t *testing.T) {
	const key = "k3y-used-by-plan-and-apply"
	good := signed(t, key)
	saved, err := Read(good)
	if err != nil {
		t.Fatalf("a signed plan does not decode: %v", err)
	}
	// What apply does: the file read once, then its signature checked.
	if err := saved.Verify([]byte(key)); err != nil {
		t.Errorf("the signed plan read: %v", err)
	}
	if err := saved.Verify([]byte("0ther-k3y")); !errors.Is(err, ErrBadSignature) {
		t.Errorf("the signed plan read, under another key: %v, want ErrBadSignature", err)
	}
	if plain, err := Read(encode(t, samplePlan())); err != nil || !errors.Is(plain.Verify([]byte(key)), ErrUnsigned) {
		t.Errorf("an unsigned plan read: %v, want ErrUnsigned", err)
	}
	if err := Validate(good); err != nil {
		t.Fatalf("a signed plan does not validate against the schema: %v", err)
	}
	if bytes.Contains(good, []byte(key)) {
		t.Fatal("the signed plan holds the key")
	}
	if !bytes.Contains(good, []byte(`"signature": "hmac-sha256:`)) {
		t.Fatalf("no signature in the signed plan:\n%s", good)
	}
	if unsigned := signed(t, ""); bytes.Contains(unsigned, []byte(`"signature"`)) || !bytes.Equal(unsigned, encode(t, samplePlan())) {
		t.Error("without a key, EncodeSigned is not Encode")
	}
	tests := []struct {
		name string
		data []byte
		key  string
		want error
	}{
		{"as written", good, key, nil},
		{"reindented, keys reordered", editDoc(t, good, func(map[string]any) {}), key, nil},
		{"removals approval flipped", editDoc(t, good, func(d map[string]any) { d["approvals"].(map[string]any)["removals"] = true }), key, ErrBadSignature},
		{"a change dropped", editDoc(t, good, func(d map[string]any) { d["changes"] = d["changes"].([]any)[1:] }), key, ErrBadSignature},
		{"a limit raised", editDoc(t, good, func(d map[string]any) { d["limits"].(map[string]any)["max_removals"] = 1000 }), key, ErrBadSignature},
		{"signature removed", editDoc(t, good, func(d map[string]any) { delete(d, "signature") }), key, ErrUnsigned},
		{"signature emptied", editDoc(t, good, func(d map[string]any) { d["signature"] = "" }), key, ErrUnsigned},
		{"signature of another plan", editDoc(t, good, func(d map[string]any) { d["signature"] = "hmac-sha256:" + strings.Repeat("0", 64) }), key, ErrBadSignature},
		{"another key", good, "0ther-k3y", ErrBadSignature},
		{"never signed", encode(t, samplePlan()), key, ErrUnsigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verify(tt.data, []byte(tt.key))
			if !errors.Is(err, tt.want) {
				t.Fatalf("verify = %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), tt.key) {
				t.Errorf("the error repeats the key: %v", err)
			}
		})
	}
}

// FuzzVerify: verifying never panics, and accepts a document only under the key that
// signed it: any accepted input, signed again, carries the same signature.
func FuzzVerify(f *testing.F) {
	var signedDoc, plainDoc bytes.Buffer
	if err := EncodeSigned(&signedDoc, samplePlan(), []byte("k")); err != nil {
		f.Fatal(err)
	}
	if err := Encode(&plainDoc, samplePlan()); err != nil {
		f.Fatal(err)
	}
	f.Add(signedDoc.Bytes())
	f.Add(plainDoc.Bytes())
	f.Add([]byte(`{"signature": "hmac-sha256:00", "a": 1.50}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := verify(data, []byte("k"))
		if err != nil {
			return
		}
		var head struct{ Signature string }
		if jerr := json.Unmarshal(data, &head); jerr != nil {
			t.Fatalf("accepted a document that is not JSON: %v", jerr)
		}
		canon, _, serr := canonical(data)
		if again := mac(canon, []byte("k")); serr != nil || again != head.Signature {
			t.Fatalf("accepted signature %q, signing gives %q (%v)", head.Signature, again, serr)
		}
		if verify(data, []byte("other")) == nil {
			t.Fatal("accepted under another key too")
		}
	})
}

// A signed document followed by anything is not the document that was signed.
func TestVerifyRefusesDataAfterTheDocument(t *testing.T) {
	var b bytes.Buffer
	if err := EncodeSigned(&b, diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{}}, []byte("k")); err != nil {
		t.Fatal(err)
	}
	if err := verify(b.Bytes(), []byte("k")); err != nil {
		t.Fatalf("the signed document: %v", err)
	}
	if err := verify(append(b.Bytes(), `{"x":1}`...), []byte("k")); err == nil {
		t.Fatal("accepted a signed document followed by another")
	}
}
