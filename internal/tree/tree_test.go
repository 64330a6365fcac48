package tree

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/diag"
)

var rules = map[string]BlockRule{
	"item":   {Field: "items", Label: "name", List: true},
	"site":   {Field: "sites", Map: true},
	"single": {Field: "single"},
}

// flat renders a tree as "path = tag:text @line:col" lines, to compare shapes.
func flat(n *Node, path string, out *[]string) {
	switch n.Kind {
	case Scalar:
		*out = append(*out, path+" = "+n.Tag+":"+n.Text+" @"+posOf(n.Pos))
	case Null:
		*out = append(*out, path+" = null @"+posOf(n.Pos))
	case List:
		for i, it := range n.Items {
			flat(it, path+"["+string(rune('0'+i))+"]", out)
		}
	case Object:
		for _, f := range n.Fields {
			flat(f.Value, path+"."+f.Key, out)
		}
	}
}

func posOf(p diag.Pos) string {
	s := p.String()
	return s[strings.Index(s, ":")+1:]
}

func TestParseHCL(t *testing.T) {
	src := strings.Join([]string{
		`locals {`,
		`  b = "${local.a}-x"`, // refers to a later local
		`  a = upper("v")`,
		`}`,
		`variable "n" { default = 3 }`,
		`top = local.b`,
		`num = var.n * 1.5`,
		`day = date(2027, 3, 2)`,
		`list = ["p", "q"]`,
		`item "one" { flag = true }`,
		`item "two" {}`,
		`site "prod" { url = "u" }`,
		`single {}`,
	}, "\n")
	n, ds := ParseHCL("t.hcl", []byte(src), rules)
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	var got []string
	flat(n, "", &got)
	want := []string{
		".top = str:V-x @6:7",
		".num = float:4.5 @7:7",
		".day = str:2027-03-02 @8:7",
		".list[0] = str:p @9:9",
		".list[1] = str:q @9:14",
		".items[0].name = str:one @10:6",
		".items[0].flag = bool:true @10:21",
		".items[1].name = str:two @11:6",
	}
	// sites.prod.url and single (an empty object) complete the tree.
	want = append(want, ".sites.prod.url = str:u @12:21")
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("tree (-want +got):\n%s", d)
	}
	if f := n.Field("single"); f == nil || f.Value.Kind != Object || !f.Block {
		t.Errorf("single block: %+v", f)
	}
}

func TestParseYAML(t *testing.T) {
	src := "a: &x [1, true, 1.5, ~, \"s\"]\nb: *x\n---\n---\nc: {d: 2027-06-30}\n"
	docs, ds := ParseYAML("t.yaml", []byte(src))
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	var got []string
	for _, d := range docs {
		flat(d, "", &got)
	}
	want := []string{
		".a[0] = int:1 @1:8", ".a[1] = bool:true @1:11", ".a[2] = float:1.5 @1:17", ".a[3] = null @1:22", ".a[4] = str:s @1:25",
		".b[0] = int:1 @1:8", ".b[1] = bool:true @1:11", ".b[2] = float:1.5 @1:17", ".b[3] = null @1:22", ".b[4] = str:s @1:25",
		".c.d = str:2027-06-30 @5:8",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("tree (-want +got):\n%s", d)
	}
}

// TestAliasBomb checks that nested aliases cannot expand without bound.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	_, ds := ParseYAML("bomb.yaml", []byte(b.String()))
	if len(ds) != 1 || !strings.Contains(ds[0].Message, "too large") {
		t.Errorf("diagnostics: %v", ds)
	}
}

func TestReaderMessages(t *testing.T) {
	n, ds := ParseHCL("r.hcl", []byte("item \"x\" {\n  flag = \"yes\"\n  count = 1.5\n  nme = 1\n}\n"), rules)
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	items := n.Field("items").Value.Items
	o := ReadObject(items[0], "item", &ds)
	o.Bool("flag")
	o.Int("count")
	o.String("name")
	o.Done()
	root := ReadObject(n, "file", &ds)
	root.Get("items")
	root.Done()
	var got []string
	for _, d := range ds.Sort() {
		got = append(got, d.Error())
	}
	want := []string{
		`r.hcl:2:10: flag must be true or false, not "yes"`,
		`r.hcl:3:11: count must be a whole number (0 or more), not "1.5"`,
		`r.hcl:4:3: unknown field "nme" in item (did you mean "name"?)`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// Keys declared with KnownList are valid and suggested like keys read, and the shared
// list is never written to (every object of a kind shares it).
func TestKnownList(t *testing.T) {
	docs, ds := ParseYAML("f.yaml", []byte("name: a\nrole: b\nroel: c\nextra: d\n"))
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	shared := []string{"name", "role"}
	var got diag.Diagnostics
	o := ReadObject(docs[0], "user", &got)
	o.KnownList(shared[:2:2])
	o.KnownList([]string{"until"}) // a second list is copied in
	o.Get("name")
	o.Get("extra")
	o.Done()
	want := []string{`f.yaml:3:1: unknown field "roel" in user (did you mean "role"?)`}
	var msgs []string
	for _, d := range got {
		msgs = append(msgs, d.Error())
	}
	if d := cmp.Diff(want, msgs); d != "" {
		t.Errorf("diagnostics (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"name", "role"}, shared); d != "" {
		t.Errorf("the shared list changed:\n%s", d)
	}
}
