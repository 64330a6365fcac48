package planfile

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diff"
)

// A saved plan travels as a CI artifact: whoever can edit it can set
// approvals.removals. With a key shared by the plan and apply jobs (the site's
// plan_signing_key_env), the plan carries an HMAC-SHA256 of its canonical form and
// apply refuses one whose signature is missing or wrong. The canonical form is the
// document without its "signature" member, parsed and written again by encoding/json
// (object keys sorted, no spaces, numbers as written), so that reindenting the file
// does not break the signature but changing any value does.

// signaturePrefix names the algorithm in the signature's value.
const signaturePrefix = "hmac-sha256:"

// ErrUnsigned says a plan carries no signature though a key is set.
var ErrUnsigned = errors.New("the plan file is not signed, and the site signs its plans (plan_signing_key_env): it was not made by enrolctl plan -out with the key, or its signature was removed; nothing was applied. Plan again")

// ErrBadSignature says the signature does not match the document under the key.
var ErrBadSignature = errors.New("the plan file's signature does not match its content: the file was altered after it was made, or signed with another key; nothing was applied. Plan again and review the new plan")

// EncodeSigned writes the plan document as Encode does, with its signature under key;
// with an empty key, exactly Encode's bytes.
func EncodeSigned(w io.Writer, p diff.Plan, key []byte) error {
	if len(key) == 0 {
		return Encode(w, p)
	}
	d, err := toDocument(p)
	if err != nil {
		return err
	}
	var plain bytes.Buffer
	if err := encodeDocument(&plain, d); err != nil {
		return err
	}
	canon, _, err := canonical(plain.Bytes())
	if err != nil {
		return err
	}
	d.Signature = mac(canon, key)
	return encodeDocument(w, d)
}

// Verify checks the file's signature under key. It returns ErrUnsigned or
// ErrBadSignature, never anything derived from the key.
func (s *Saved) Verify(key []byte) error {
	if s.signature == "" {
		return ErrUnsigned
	}
	if !strings.HasPrefix(s.signature, signaturePrefix) || !hmac.Equal([]byte(s.signature), []byte(mac(s.canon, key))) {
		return ErrBadSignature
	}
	return nil
}

// mac is the signature of a canonical form under key.
func mac(canon, key []byte) string {
	h := hmac.New(sha256.New, key)
	h.Write(canon)
	return signaturePrefix + hex.EncodeToString(h.Sum(nil))
}

// canonical is the canonical form of a document's bytes, and the signature it held.
func canonical(data []byte) (canon []byte, signature string, err error) {
	doc, err := parse(data)
	if err != nil {
		return nil, "", err
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, "", errors.New("not a plan document: not a JSON object")
	}
	return canonicalOf(obj)
}

// canonicalOf is the document without its signature, as encoding/json writes a
// generic value: keys sorted, no insignificant space, numbers kept as written; and the
// signature it held ("" when none, or when it is not a string).
func canonicalOf(doc map[string]any) (canon []byte, signature string, err error) {
	signature, _ = doc["signature"].(string)
	unsigned := maps.Clone(doc)
	delete(unsigned, "signature")
	canon, err = json.Marshal(unsigned)
	return canon, signature, err
}
