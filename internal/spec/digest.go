package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// treeDigest hashes the files a load reads, in the order it reads them, by their
// path below the spec folder: the same specs give the same digest wherever the folder
// is, in a working tree or a fresh clone, whatever the commit that holds them.
type treeDigest struct {
	root string
	h    hash.Hash
}

func newTreeDigest(root string) *treeDigest { return &treeDigest{root: root, h: sha256.New()} }

// add records one file. A file that could not be read counts by its error, so that a
// folder with an unreadable file never digests as one without it.
func (d *treeDigest) add(p string, src []byte, err error) {
	rel := p
	if d.root != "." {
		rel = strings.TrimPrefix(p, strings.TrimSuffix(d.root, "/")+"/")
	}
	if err != nil {
		fmt.Fprintf(d.h, "%s\x00error\x00%v\x00", rel, err)
		return
	}
	fmt.Fprintf(d.h, "%s\x00%d\x00", rel, len(src))
	d.h.Write(src)
}

func (d *treeDigest) sum() string { return "sha256:" + hex.EncodeToString(d.h.Sum(nil)) }
